@clause-18.8 @srv-2.5 @srv-4.3
Feature: 18.8 Amount made available on emergency credit activation
  A successful activation makes the full EmergencyCreditLimit available whatever the
  meter balance: SRV 4.3 then reports EmergencyCreditBalance equal to the limit in
  whole pence x 1000. A second activation while emergency credit is in use is rejected
  and adds nothing.

  Scenario Outline: With the balance at <balance> pence, activation makes the whole limit available
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 300000 and EmergencyCreditThreshold 500000
    And the meter balance is <balance> pence
    When the User activates emergency credit
    Then the request succeeds
    And SRV 4.3 reports EmergencyCreditBalance 300000
    And SRV 4.3 reports MeterBalance <reported>

    Examples:
      | balance | reported |
      | 0       | 0        |
      | 1       | 1000     |
      | 250     | 250000   |
      | 499     | 499000   |
      | 500     | 500000   |
      | -200    | -200000  |

  Scenario Outline: A limit of <limit> DUIS units makes <available> available
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit <limit> and EmergencyCreditThreshold 500000
    And the meter balance is 100 pence
    When the User activates emergency credit
    Then the request succeeds
    And SRV 4.3 reports EmergencyCreditBalance <available>

    Examples:
      | limit      | available  |
      | 1000       | 1000       |
      | 300999     | 300000     |
      | 2147483647 | 2147483000 |

  Scenario: A second activation while emergency credit is in use is rejected and adds nothing
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 300000 and EmergencyCreditThreshold 500000
    And the meter balance is 0 pence
    And emergency credit has been activated
    When the User activates emergency credit
    Then the request is rejected with outcome "device rejected"
    And SRV 4.3 reports EmergencyCreditBalance 300000

  Scenario: Emergency credit made available is not debt: every debt register stays at zero
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 300000 and EmergencyCreditThreshold 500000
    And the meter balance is 0 pence
    When the User activates emergency credit
    Then the request succeeds
    And SRV 4.3 reports EmergencyCreditBalance 300000
    And SRV 4.3 reports AccumulatedDebtRegister 0
    And SRV 4.3 reports PaymentDebtRegister 0
    And SRV 4.3 reports TimeDebtRegister1 0
    And SRV 4.3 reports TimeDebtRegister2 0
