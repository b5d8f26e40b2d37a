@clause-18.4 @srv-1.6
Feature: 18.4 Changing to prepayment mode
  On SRV 1.6 Prepayment the meter enters prepayment mode with its DisablementThreshold
  at the value truncated to whole pence, the two SuspendDebt flags as sent, the meter
  balance carried over unchanged and emergency credit not in use. Asking for the mode
  already in force succeeds and changes nothing. Changing to credit mode ends any
  emergency credit in use.

  Scenario Outline: From credit mode, DisablementThreshold <threshold> is stored as <pence> pence
    Given the meter is in credit mode
    And the meter balance is 250 pence
    When the User changes the payment mode to prepayment with DisablementThreshold <threshold>, SuspendDebtDisabled <sdd> and SuspendDebtEmergency <sde>
    Then the request succeeds
    And the meter received SetPaymentMode with disablement_threshold_pence <pence>
    And the meter is in prepayment mode
    And SRV 4.13 reports DisablementThreshold <reported>
    And SRV 4.13 reports SuspendDebtDisabled <sdd>
    And SRV 4.13 reports SuspendDebtEmergency <sde>
    And SRV 4.18 reports MeterBalance 250000
    And SRV 4.3 reports EmergencyCreditBalance 0

    Examples: any electricity or gas meter
      | threshold | pence | reported | sdd   | sde   |
      | 556677    | 556   | 556000   | true  | true  |
      | 1000      | 1     | 1000     | true  | false |
      | 999       | 0     | 0        | false | true  |
      | 0         | 0     | 0        | false | false |
      | 2147483647 | 2147483 | 2147483000 | false | false |

    Examples: negative thresholds
      | threshold   | pence    | reported    | sdd   | sde   |
      | -1          | 0        | 0           | false | false |
      | -1500       | -1       | -1000       | true  | false |
      | -2147483648 | -2147483 | -2147483000 | false | true  |

  Scenario: Asking for prepayment when already in prepayment changes nothing
    Given the meter is in prepayment mode with DisablementThreshold 100000
    When the User changes the payment mode to prepayment with DisablementThreshold 300000, SuspendDebtDisabled true and SuspendDebtEmergency true
    Then the request succeeds
    And the meter is in prepayment mode
    And SRV 4.13 reports DisablementThreshold 100000
    And SRV 4.13 reports SuspendDebtDisabled false
    And SRV 4.13 reports SuspendDebtEmergency false

  Scenario: Asking for credit when already in credit changes nothing
    Given the meter is in credit mode
    And the meter balance is 40 pence
    When the User changes the payment mode to credit
    Then the request succeeds
    And the meter is in credit mode
    And the meter state is unchanged by the last request

  Scenario: Changing to credit mode ends emergency credit in use
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 500000 and EmergencyCreditThreshold 100000
    And the meter balance is 0 pence
    And emergency credit has been activated
    When the User changes the payment mode to credit
    Then the request succeeds
    And the meter is in credit mode
    And SRV 4.3 reports EmergencyCreditBalance 0

  Scenario: Changing to credit mode leaves no emergency credit in use on the meter
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 500000 and EmergencyCreditThreshold 100000
    And the meter balance is 0 pence
    And emergency credit has been activated
    When the User changes the payment mode to credit
    Then the request succeeds
    And the meter state shows emergency_credit_in_use false
    And the meter state shows emergency_credit_balance_pence 0

  Scenario: Back in prepayment mode after emergency credit, none is in use and it can be activated again
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 500000 and EmergencyCreditThreshold 100000
    And the meter balance is 0 pence
    And emergency credit has been activated
    And the meter is in credit mode
    When the User changes the payment mode to prepayment with DisablementThreshold 0, SuspendDebtDisabled false and SuspendDebtEmergency false
    Then the request succeeds
    And the meter state shows emergency_credit_in_use false
    And SRV 4.3 reports EmergencyCreditBalance 0
    When the User activates emergency credit
    Then the request succeeds
    And SRV 4.3 reports EmergencyCreditBalance 500000
