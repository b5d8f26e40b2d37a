@clause-18.5 @srv-2.1 @srv-2.5
Feature: 18.5 EmergencyCreditLimit of zero; thresholds in prepayment mode
  With a stored EmergencyCreditLimit of 0 p (a sub-penny limit truncates to 0 p),
  emergency credit is never available: SRV 2.5 is rejected and the meter is unchanged.
  In prepayment mode emergency credit may be activated only while the meter balance is
  at or below the EmergencyCreditThreshold. In credit mode the thresholds are stored
  but not acted on, and SRV 2.5 is rejected.

  Scenario Outline: An EmergencyCreditLimit of <limit> DUIS units: activation <result>
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit <limit> and EmergencyCreditThreshold 100000
    And the meter balance is 0 pence
    When the User activates emergency credit
    Then the request <result>
    And SRV 4.3 reports EmergencyCreditBalance <ec_balance>

    Examples:
      | limit  | result      | ec_balance |
      | 0      | is rejected | 0          |
      | 1      | is rejected | 0          |
      | 999    | is rejected | 0          |
      | 1000   | succeeds    | 1000       |
      | 300000 | succeeds    | 300000     |

  Scenario: A rejected activation leaves the meter unchanged
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 999 and EmergencyCreditThreshold 100000
    And the meter balance is 0 pence
    When the User activates emergency credit
    Then the request is rejected with outcome "device rejected"
    And the meter state is unchanged by the last request

  Scenario Outline: With the balance at <balance> pence and the threshold at <threshold> DUIS units, activation <result>
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 500000 and EmergencyCreditThreshold <threshold>
    And the meter balance is <balance> pence
    When the User activates emergency credit
    Then the request <result>

    Examples:
      | threshold | balance | result      |
      | 100000    | 99      | succeeds    |
      | 100000    | 100     | succeeds    |
      | 100000    | 101     | is rejected |
      | 100000    | -50     | succeeds    |
      | 100999    | 100     | succeeds    |
      | 100999    | 101     | is rejected |
      | 99999     | 100     | is rejected |
      | 99999     | 99      | succeeds    |
      | 0         | 0       | succeeds    |
      | 0         | 1       | is rejected |

  Scenario: In credit mode the thresholds are stored but emergency credit cannot be activated
    Given the meter is in credit mode
    And the prepayment configuration has EmergencyCreditLimit 500000 and EmergencyCreditThreshold 100000
    And the meter balance is 0 pence
    When the User activates emergency credit
    Then the request is rejected with outcome "device rejected"
    And the meter state is unchanged by the last request
    And SRV 4.13 reports EmergencyCreditLimit 500000
    And SRV 4.13 reports EmergencyCreditThreshold 100000

  Scenario Outline: Above the threshold (<balance> pence over <threshold> DUIS units) the meter refuses and nothing changes
    Given the meter is in prepayment mode
    And the prepayment configuration has EmergencyCreditLimit 500000 and EmergencyCreditThreshold <threshold>
    And the meter balance is <balance> pence
    When the User activates emergency credit
    Then the request is rejected
    And the response reports outcome "device rejected" at position 1
    And the meter state is unchanged by the last request
    And SRV 4.3 reports EmergencyCreditBalance 0

    Examples:
      | threshold | balance |
      | 100000    | 101     |
      | 99999     | 100     |
      | 0         | 1       |
