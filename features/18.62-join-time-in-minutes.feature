@clause-18.62 @srv-8.11
Feature: 18.62 JoinTimePeriod converted to minutes
  DUIS gives the join window of SRV 8.11 (Add) in seconds, 1 to 3600. A Secure
  Communications Hub takes whole minutes, so the S1SP sends the window rounded up to
  whole minutes: the shortest join window is therefore 60 seconds.

  Scenario Outline: A JoinTimePeriod of <seconds> s reaches the Communications Hub as <minutes> min
    When the User adds device 00-DB-12-34-56-78-90-C1 to the Communications Hub whitelist with JoinTimePeriod <seconds>
    Then the request succeeds
    And the Communications Hub received AddToJoinWhitelist with join_minutes <minutes>
    And the Communications Hub state shows join_whitelist_minutes.00-DB-12-34-56-78-90-C1 <minutes>

    Examples:
      | seconds | minutes |
      | 1       | 1       |
      | 59      | 1       |
      | 60      | 1       |
      | 61      | 2       |
      | 90      | 2       |
      | 119     | 2       |
      | 120     | 2       |
      | 121     | 3       |
      | 3540    | 59      |
      | 3541    | 60      |
      | 3599    | 60      |
      | 3600    | 60      |

  Scenario Outline: A JoinTimePeriod of <seconds> s is outside DUIS and is refused
    When the User sends a JoinTimePeriod of <seconds> that is not valid DUIS
    Then the S1SP refuses the request naming "JoinTimePeriod"
    And no device command was sent

    Examples:
      | seconds |
      | 0       |
      | 3601    |
      | -60     |

  Scenario: Removing a device sends no join window
    Given device 00-DB-12-34-56-78-90-C1 is on the Communications Hub whitelist with JoinTimePeriod 90
    When the User removes device 00-DB-12-34-56-78-90-C1 from the Communications Hub whitelist
    Then the request succeeds
    And the Communications Hub received RemoveFromJoinWhitelist with joining_device 00-DB-12-34-56-78-90-C1

  Scenario: Removing a device takes it off the whitelist and leaves the others
    Given device 00-DB-12-34-56-78-90-C1 is on the Communications Hub whitelist with JoinTimePeriod 90
    And device 00-DB-12-34-56-78-90-C2 is on the Communications Hub whitelist with JoinTimePeriod 3600
    When the User removes device 00-DB-12-34-56-78-90-C1 from the Communications Hub whitelist
    Then the request succeeds
    And the Communications Hub state has no join_whitelist_minutes.00-DB-12-34-56-78-90-C1
    And the Communications Hub state shows join_whitelist_minutes.00-DB-12-34-56-78-90-C2 60

  Scenario Outline: The install code reaches the Communications Hub unchanged (<bytes> bytes, the DUIS <bound>)
    When the User adds device 00-DB-12-34-56-78-90-C1 to the Communications Hub whitelist with JoinTimePeriod 61 and install code <code>
    Then the request succeeds
    And the Communications Hub received AddToJoinWhitelist with install_code <code>
    And the Communications Hub received AddToJoinWhitelist with join_minutes 2

    Examples:
      | bytes | bound   | code                             |
      | 6     | minimum | 0A1B2C3D4E5F                     |
      | 16    | maximum | 00112233445566778899AABBCCDDEEFF |
