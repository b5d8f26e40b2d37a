@clause-18.16 @srv-1.5 @srv-4.3 @srv-4.18
Feature: 18.16 Values returned after a meter balance adjustment
  The meter balance a User reads after adjustments (SRV 4.3 and SRV 4.18 MeterBalance)
  is the meter's balance in whole pence x 1000: the sub-penny part of a request is
  dropped at each request and never becomes visible, even when several add up.

  Background:
    Given the meter is in prepayment mode
    And the meter balance is 0 pence

  Scenario Outline: After adjustments of <first> and <second>, both reads report <reported>
    When the User adjusts the meter balance by <first>
    And the User adjusts the meter balance by <second>
    Then SRV 4.18 reports MeterBalance <reported>
    And SRV 4.3 reports MeterBalance <reported>

    Examples:
      | first   | second | reported |
      | 1500    | 1500   | 2000     |
      | 999     | 999    | 0        |
      | 100500  | 0      | 100000   |
      | 250000  | -999   | 250000   |
      | -1500   | 500    | -1000    |
      | 123456  | 876544 | 999000   |

  Scenario: The read that returns them is the DUIS response to that read
    When the User adjusts the meter balance by 1500
    Then the DUIS response to a SRV 4.18 read names ServiceReference 4.18, ServiceReferenceVariant 4.18 and ResponseCode I0
    And the DUIS response to a SRV 4.3 read names ServiceReference 4.3, ServiceReferenceVariant 4.3 and ResponseCode I0
