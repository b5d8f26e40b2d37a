@mp-312 @clause-MP312.1 @srv-4.10
Feature: MP312.1 SRV 4.10 answered from the S1SP's cache
  MP312 lets the S1SP answer a 4.10 (Read Network Data) from a cache, because a 4.10 to a
  SMETS1 device needs two SMS messages to wake the Communications Hub. As this project reads it
  (the pack's parameters, marked interpretation): less than 1800 seconds after the S1SP read a
  device's network data for a ReadLogPeriod, a 4.10 for the same device and period is answered
  from the cache, with no command to the device and the values read then; at 1800 seconds and
  after, the device is read again. A cached answer keeps the Timestamp of the read it came from.
  The meter records a new voltage after the first read, so a User sees whether the answer is
  cached or fresh. The S1SP's clock starts at 2026-01-01T00:00:00Z in every scenario.

  Background:
    Given the meter recorded these RMS voltages:
      | start                | V   |
      | 2025-12-31T10:00:00Z | 241 |
      | 2025-12-31T10:30:00Z | 239 |
    And the User is an Import Supplier
    When the User reads the network data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these RMS voltages:
      | start                | V   |
      | 2025-12-31T10:00:00Z | 241 |
      | 2025-12-31T10:30:00Z | 239 |
    And the SMETS1 Response Timestamp is 2026-01-01T00:00:00Z
    Given the meter recorded these RMS voltages:
      | start                | V   |
      | 2025-12-31T11:00:00Z | 250 |

  Scenario Outline: <seconds> seconds after the read, the same read is answered from the cache
    When <seconds> seconds pass
    And the User reads the network data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these RMS voltages:
      | start                | V   |
      | 2025-12-31T10:00:00Z | 241 |
      | 2025-12-31T10:30:00Z | 239 |
    And no device command was sent
    And the SMETS1 Response Timestamp is 2026-01-01T00:00:00Z
    And the last two responses to SRV 4.10 carry identical values

    Examples:
      | seconds |
      | 0       |
      | 1       |
      | 1799    |

  Scenario Outline: <seconds> seconds after the read, the device is read again
    When <seconds> seconds pass
    And the User reads the network data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these RMS voltages:
      | start                | V   |
      | 2025-12-31T10:00:00Z | 241 |
      | 2025-12-31T10:30:00Z | 239 |
      | 2025-12-31T11:00:00Z | 250 |
    And the meter received ReadNetworkData
    And the SMETS1 Response Timestamp is <timestamp>

    Examples:
      | seconds | timestamp            |
      | 1800    | 2026-01-01T00:30:00Z |
      | 1801    | 2026-01-01T00:30:01Z |
      | 86400   | 2026-01-02T00:00:00Z |

  Scenario: The refreshed read is cached in turn
    When 1800 seconds pass
    And the User reads the network data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Given the meter recorded these RMS voltages:
      | start                | V   |
      | 2025-12-31T11:30:00Z | 236 |
    When 1799 seconds pass
    And the User reads the network data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these RMS voltages:
      | start                | V   |
      | 2025-12-31T10:00:00Z | 241 |
      | 2025-12-31T10:30:00Z | 239 |
      | 2025-12-31T11:00:00Z | 250 |
    And no device command was sent
    And the SMETS1 Response Timestamp is 2026-01-01T00:30:00Z

  Scenario: A read for another period goes to the device
    When 60 seconds pass
    And the User reads the network data from 2025-12-31T10:45:00Z to 2026-01-01T00:00:00Z
    Then the response carries these RMS voltages:
      | start                | V   |
      | 2025-12-31T11:00:00Z | 250 |
    And the meter received ReadNetworkData

  Scenario: Another eligible User gets the cached answer
    Given the User is an Electricity Distributor
    When 600 seconds pass
    And the User reads the network data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the response carries these RMS voltages:
      | start                | V   |
      | 2025-12-31T10:00:00Z | 241 |
      | 2025-12-31T10:30:00Z | 239 |
    And no device command was sent
    And the last two responses to SRV 4.10 carry identical values

  Scenario: A User not eligible for 4.10 is refused, never answered from the cache
    Given the User is an Export Supplier
    When 600 seconds pass
    And the User sends SRV 4.10
    Then the request is refused with DUIS response code E2
    And no device command was sent
