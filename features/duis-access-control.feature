@clause-DUIS.1
Feature: DUIS.1 User role eligibility and device compatibility, before any device command
  Not an S1SR clause: DUIS access control, as a User meets it through the S1SP. A User whose
  roles are not eligible for a Service Reference Variant gets E2 (User Role not permitted to
  send Service Reference); an eligible User asking a device type that does not answer the SRV
  gets E11 (Service Reference not compatible with the specified device). Either is a DUIS
  response carrying only the code, signed and answering its request: nothing reaches a device.
  The codes below are the DUIS request matrix's eligibility, written out literally; the
  roles' User IDs are the test estate's registrations (DCC Boxed's keys where it has them).

  Scenario Outline: SRV <srv> is for Import and Gas Suppliers only
    Then SRV <srv> gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | I0   |
      | Gas Supplier              | I0   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | E2   |
      | Gas Transporter           | E2   |
      | Other User                | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

    Examples:
      | srv  |
      | 1.5  |
      | 1.6  |
      | 2.1  |
      | 2.5  |
      | 4.3  |
      | 4.13 |
      | 4.18 |
      | 11.1 |
      | 11.3 |

  @srv-6.4.1 @fuel-electricity
  Scenario: SRV 6.4.1 to an ESME is for the Import Supplier only
    Then SRV 6.4.1 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | I0   |
      | Gas Supplier              | E2   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | E2   |
      | Gas Transporter           | E2   |
      | Other User                | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-6.4.1 @fuel-gas
  Scenario: SRV 6.4.1 to a GSME is refused E11 to the Import Supplier and E2 to every other role
    Then SRV 6.4.1 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | E11  |
      | Gas Supplier              | E2   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | E2   |
      | Gas Transporter           | E2   |
      | Other User                | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-8.11
  Scenario: SRV 8.11 is for Suppliers and Other Users
    Then SRV 8.11 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | I0   |
      | Gas Supplier              | I0   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | E2   |
      | Gas Transporter           | E2   |
      | Other User                | I0   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-1.5 @srv-4.18
  Scenario: A refused balance adjustment leaves the meter balance as it was
    Given the meter is in prepayment mode
    And the meter balance is 500 pence
    And the User is an Electricity Distributor
    When the User sends SRV 1.5
    Then the request is refused with DUIS response code E2
    And no device command was sent
    And the meter state is unchanged by the last request
    And SRV 4.18 reports MeterBalance 500000

  @srv-1.5 @srv-4.18
  Scenario: A refusal leaves a negative balance as it was
    Given the meter is in prepayment mode
    And the meter balance is -250 pence
    And the User is a Gas Transporter
    When the User sends SRV 1.5
    Then the request is refused with DUIS response code E2
    And no device command was sent
    And SRV 4.18 reports MeterBalance -250000

  @srv-1.5
  Scenario: The same request from an eligible User is carried out
    Given the meter is in prepayment mode
    And the meter balance is 0 pence
    And the User is a Gas Supplier
    When the User sends SRV 1.5
    Then the DUIS response code is I0
    And the request succeeds
    And SRV 4.18 reports MeterBalance 1000

  @srv-4.18
  Scenario: A User ID the S1SP does not know holds no role
    Given the User sends as User ID 90-B3-D5-1F-30-0F-00-0F
    When the User sends SRV 4.18
    Then the request is refused with DUIS response code E2
    And no device command was sent

  @srv-4.18
  Scenario: The Meter Data Retriever's User ID holds no role where MP162 is not in force
    Given the User sends as User ID 90-B3-D5-1F-30-01-00-09
    When the User sends SRV 4.18
    Then the request is refused with DUIS response code E2
    And no device command was sent

  @srv-4.1.1
  Scenario: SRV 4.1.1 is for Suppliers, Electricity Distributors and Gas Transporters
    Then SRV 4.1.1 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | I0   |
      | Gas Supplier              | I0   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | I0   |
      | Gas Transporter           | I0   |
      | Other User                | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-4.2 @fuel-electricity
  Scenario: SRV 4.2 to an ESME is for Export Suppliers and Electricity Distributors
    Then SRV 4.2 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | E2   |
      | Gas Supplier              | E2   |
      | Export Supplier           | I0   |
      | Electricity Distributor   | I0   |
      | Gas Transporter           | E2   |
      | Other User                | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-4.2 @fuel-gas
  Scenario: SRV 4.2 to a GSME is refused E11 to the roles that may send it
    Then SRV 4.2 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | E2   |
      | Gas Supplier              | E2   |
      | Export Supplier           | E11  |
      | Electricity Distributor   | E11  |
      | Gas Transporter           | E2   |
      | Other User                | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-4.8.1
  Scenario: SRV 4.8.1 is for Suppliers, Distributors, Transporters and Other Users
    Then SRV 4.8.1 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | I0   |
      | Gas Supplier              | I0   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | I0   |
      | Gas Transporter           | I0   |
      | Other User                | I0   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-4.8.3 @fuel-electricity
  Scenario: SRV 4.8.3 to an ESME is for Export Suppliers, Distributors and Other Users
    Then SRV 4.8.3 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | E2   |
      | Gas Supplier              | E2   |
      | Export Supplier           | I0   |
      | Electricity Distributor   | I0   |
      | Gas Transporter           | E2   |
      | Other User                | I0   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-4.8.3 @fuel-gas
  Scenario: SRV 4.8.3 to a GSME is refused E11 to the roles that may send it
    Then SRV 4.8.3 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | E2   |
      | Gas Supplier              | E2   |
      | Export Supplier           | E11  |
      | Electricity Distributor   | E11  |
      | Gas Transporter           | E2   |
      | Other User                | E11  |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-4.10
  Scenario: SRV 4.10 is for Suppliers, Electricity Distributors and Gas Transporters
    Then SRV 4.10 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | I0   |
      | Gas Supplier              | I0   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | I0   |
      | Gas Transporter           | I0   |
      | Other User                | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @srv-4.17
  Scenario: SRV 4.17 is for Suppliers, Distributors, Transporters and Other Users
    Then SRV 4.17 gets these DUIS response codes by role:
      | role                      | code |
      | Import Supplier           | I0   |
      | Gas Supplier              | I0   |
      | Export Supplier           | E2   |
      | Electricity Distributor   | I0   |
      | Gas Transporter           | I0   |
      | Other User                | I0   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device
