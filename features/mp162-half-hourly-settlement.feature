@mp-162
Feature: MP162 Market-wide half-hourly settlement: the Meter Data Retriever and the half-hourly cache
  MP162 adds a User Role for Meter Data Retrieval and an S1SP cache of half-hourly data that
  helps when more than one User asks for the same data. As this project reads it (the pack,
  marked interpretation): the Meter Data Retriever (DCC Boxed's mdr User,
  90-B3-D5-1F-30-01-00-09) may send 4.8.1, 4.8.3, 4.1.1 and 4.2 and nothing else; eligible
  Users asking for the same device's half-hourly data for the same period less than 3600
  seconds after the first read cause one device read and get identical values, each response
  signed for and correlated with its own request; at 3600 seconds the device is read again.
  The S1SP's clock starts at 2026-01-01T00:00:00Z in every scenario.

  @clause-MP162.1 @srv-4.8.1
  Scenario: SRV 4.8.1 is for the Meter Data Retriever too
    Then SRV 4.8.1 gets these DUIS response codes by role:
      | role                      | code |
      | Meter Data Retriever      | I0   |
      | Import Supplier           | I0   |
      | Export Supplier           | E2   |
      | Registered Supplier Agent | E2   |
    And no refused request reached a device

  @clause-MP162.1 @srv-4.1.1
  Scenario: SRV 4.1.1 is for the Meter Data Retriever too
    Then SRV 4.1.1 gets these DUIS response codes by role:
      | role                      | code |
      | Meter Data Retriever      | I0   |
      | Other User                | E2   |
    And no refused request reached a device

  @clause-MP162.1 @srv-4.2 @fuel-electricity
  Scenario: SRV 4.2 to an ESME is for the Meter Data Retriever too
    Then SRV 4.2 gets these DUIS response codes by role:
      | role                      | code |
      | Meter Data Retriever      | I0   |
      | Import Supplier           | E2   |
    And no refused request reached a device

  @clause-MP162.1 @srv-4.2 @fuel-gas
  Scenario: SRV 4.2 to a GSME is refused E11 to the Meter Data Retriever
    Then SRV 4.2 gets these DUIS response codes by role:
      | role                      | code |
      | Meter Data Retriever      | E11  |
    And no refused request reached a device

  @clause-MP162.1 @srv-4.8.3 @fuel-electricity
  Scenario: SRV 4.8.3 to an ESME is for the Meter Data Retriever too
    Then SRV 4.8.3 gets these DUIS response codes by role:
      | role                      | code |
      | Meter Data Retriever      | I0   |
      | Gas Supplier              | E2   |
    And no refused request reached a device

  @clause-MP162.1
  Scenario Outline: The Meter Data Retriever may not send SRV <srv>
    Given the User is a Meter Data Retriever
    When the User sends SRV <srv>
    Then the request is refused with DUIS response code E2
    And no device command was sent

    Examples:
      | srv  |
      | 1.5  |
      | 4.3  |
      | 4.10 |
      | 4.17 |
      | 4.18 |
      | 11.1 |

  @clause-MP162.1 @srv-4.8.1 @fuel-electricity
  Scenario: The Meter Data Retriever reads the half-hour import values the meter recorded
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2025-12-31T00:00:00Z | 150 |
      | 2025-12-31T00:30:00Z | 0   |
      | 2025-12-31T23:30:00Z | 275 |
    And the User is a Meter Data Retriever
    When the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the DUIS response code is I0
    And the response carries these half-hour values:
      | start                | Wh  |
      | 2025-12-31T00:00:00Z | 150 |
      | 2025-12-31T00:30:00Z | 0   |
      | 2025-12-31T23:30:00Z | 275 |

  @clause-MP162.2 @srv-4.8.1 @fuel-electricity
  Scenario Outline: A second eligible User <seconds> seconds later gets the first read's values without a device read
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2025-12-31T09:00:00Z | 410 |
      | 2025-12-31T09:30:00Z | 390 |
    And the User is an Import Supplier
    When the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the meter received ReadProfileData
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2025-12-31T10:00:00Z | 505 |
    And the User is a Meter Data Retriever
    When <seconds> seconds pass
    And the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these half-hour values:
      | start                | Wh  |
      | 2025-12-31T09:00:00Z | 410 |
      | 2025-12-31T09:30:00Z | 390 |
    And no device command was sent
    And the last two responses to SRV 4.8.1 carry identical values
    And the SMETS1 Response Timestamp is 2026-01-01T00:00:00Z

    Examples:
      | seconds |
      | 0       |
      | 3599    |

  @clause-MP162.2 @srv-4.8.1 @fuel-electricity
  Scenario Outline: <seconds> seconds after the first read, the device is read again
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2025-12-31T09:00:00Z | 410 |
    And the User is an Import Supplier
    When the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2025-12-31T09:30:00Z | 390 |
    And the User is a Meter Data Retriever
    When <seconds> seconds pass
    And the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these half-hour values:
      | start                | Wh  |
      | 2025-12-31T09:00:00Z | 410 |
      | 2025-12-31T09:30:00Z | 390 |
    And the meter received ReadProfileData
    And the SMETS1 Response Timestamp is <timestamp>

    Examples:
      | seconds | timestamp            |
      | 3600    | 2026-01-01T01:00:00Z |
      | 3601    | 2026-01-01T01:00:01Z |

  @clause-MP162.2 @srv-4.8.1 @fuel-gas
  Scenario: Two eligible Users asking for a gas meter's day cause one device read
    Given the meter recorded these half-hour import values:
      | start                | m3    |
      | 2025-12-31T06:00:00Z | 0.125 |
    And the User is a Gas Supplier
    When the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Given the meter recorded these half-hour import values:
      | start                | m3    |
      | 2025-12-31T06:30:00Z | 0.250 |
    And the User is a Gas Transporter
    When 1200 seconds pass
    And the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these half-hour values:
      | start                | m3    |
      | 2025-12-31T06:00:00Z | 0.125 |
    And no device command was sent
    And the last two responses to SRV 4.8.1 carry identical values

  @clause-MP162.2 @srv-4.8.1 @fuel-electricity
  Scenario: A User not eligible for 4.8.1 gets E2, never the cached half-hour values
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2025-12-31T09:00:00Z | 410 |
    And the User is an Import Supplier
    When the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Given the User is an Export Supplier
    When 60 seconds pass
    And the User sends SRV 4.8.1
    Then the request is refused with DUIS response code E2
    And no device command was sent

  @clause-MP162.2 @srv-4.8.1 @fuel-electricity
  Scenario: A read of another day goes to the device
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2025-12-30T09:00:00Z | 120 |
      | 2025-12-31T09:00:00Z | 410 |
    And the User is an Import Supplier
    When the User reads the active import profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    And 60 seconds pass
    And the User reads the active import profile data from 2025-12-30T00:00:00Z to 2025-12-31T00:00:00Z
    Then the response carries these half-hour values:
      | start                | Wh  |
      | 2025-12-30T09:00:00Z | 120 |
    And the meter received ReadProfileData
