@clause-18.37 @srv-6.4.1
Feature: 18.37 Maximum LoadLimitPowerThreshold
  A Secure ESME accepts a LoadLimitPowerThreshold up to a maximum per device model
  (this project's reading: 65535 W, a 16-bit field). A request above it is rejected by
  the S1SP before it reaches the meter, with a failure response naming the limit, and
  the meter is unchanged. At the maximum it is accepted.

  Scenario Outline: A threshold of <watts> W is accepted and reaches the meter unchanged
    When the User sets the load limit power threshold to <watts> W
    Then the request succeeds
    And the meter received SetLoadLimit with power_threshold_w <watts>
    And the meter state shows load_limit.power_threshold_w <watts>

    Examples:
      | watts |
      | 0     |
      | 1     |
      | 6900  |
      | 65534 |
      | 65535 |

  Scenario Outline: A threshold of <watts> W is rejected by the S1SP, naming the limit
    When the User sets the load limit power threshold to <watts> W
    Then the request is rejected with outcome "outside the device model's range" naming the limit 65535 W
    And no device command was sent
    And the meter state is unchanged by the last request

    Examples:
      | watts      |
      | 65536      |
      | 100000     |
      | 4294967295 |

  Scenario: A threshold beyond the DUIS range is refused as invalid
    When the User sends a load limit power threshold of 4294967296 W that is not valid DUIS
    Then the S1SP refuses the request naming "LoadLimitPowerThreshold"
    And no device command was sent

  Scenario Outline: The whole setting reaches the meter and stays there (<watts> W, period <period> s)
    When the User sets the load limit power threshold to <watts> W with period <period> s, restoration period <restoration> s and supply state <state>
    Then the request succeeds
    And the meter received SetLoadLimit with period_s <period>
    And the meter received SetLoadLimit with restoration_period_s <restoration>
    And the meter received SetLoadLimit with supply_state <state>
    And the meter state shows load_limit.power_threshold_w <watts>
    And the meter state shows load_limit.period_s <period>
    And the meter state shows load_limit.restoration_period_s <restoration>
    And the meter state shows load_limit.supply_state <state>

    Examples: periods are xs:unsignedInt seconds: zero and the largest
      | watts | period     | restoration | state     |
      | 65535 | 300        | 30          | Disable   |
      | 0     | 0          | 0           | Unchanged |
      | 6900  | 4294967295 | 4294967295  | Disable   |

  Scenario: The refusal above the maximum is the outcome at position 1, and names the limit
    When the User sets the load limit power threshold to 65536 W
    Then the request is rejected
    And the response reports outcome "outside the device model's range" at position 1 naming the limit 65535 W
