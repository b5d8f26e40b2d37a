@clause-18.3 @srv-1.5
Feature: 18.3 Meter balance adjustment
  A Secure meter holds its meter balance in whole pence. DUIS carries money in
  10^-5 of a pound (1 penny = 1000 DUIS units). The S1SP sends an AdjustMeterBalance
  to the meter truncated toward zero to whole pence; an adjustment under a penny
  leaves the balance unchanged and the request still succeeds. ResetMeterBalance
  sets the balance to zero.

  Background:
    Given the meter is in prepayment mode
    And the meter balance is 500 pence

  Scenario Outline: An adjustment of <adjust> DUIS units reaches the meter as <pence> pence
    When the User adjusts the meter balance by <adjust>
    Then the request succeeds
    And the meter received AdjustMeterBalance with amount_pence <pence>
    And SRV 4.18 reports MeterBalance <balance>

    Examples: whole pence, sub-penny parts, zero and negatives
      | adjust  | pence | balance |
      | 123456  | 123   | 623000  |
      | 1000    | 1     | 501000  |
      | 1999    | 1     | 501000  |
      | 999     | 0     | 500000  |
      | 1       | 0     | 500000  |
      | 0       | 0     | 500000  |
      | -1      | 0     | 500000  |
      | -999    | 0     | 500000  |
      | -1000   | -1    | 499000  |
      | -1500   | -1    | 499000  |
      | -600000 | -600  | -100000 |

    Examples: the largest and smallest adjustments DUIS can carry (xs:int)
      | adjust      | pence    | balance     |
      | 2147483647  | 2147483  | 2147983000  |
      | -2147483648 | -2147483 | -2146983000 |

  Scenario: ResetMeterBalance sets the balance to zero
    When the User resets the meter balance
    Then the request succeeds
    And the meter received ResetMeterBalance
    And SRV 4.18 reports MeterBalance 0

  Scenario Outline: An adjustment beyond the DUIS range is refused before it reaches the meter
    When the User sends an adjustment of <adjust> that is not valid DUIS
    Then the S1SP refuses the request naming "AdjustMeterBalance"
    And no device command was sent
    And SRV 4.18 reports MeterBalance 500000

    Examples:
      | adjust      |
      | 2147483648  |
      | -2147483649 |
