@clause-18.63 @srv-11.1
Feature: 18.63 Firmware update while another is in progress on the same HAN
  A HAN runs one firmware update at a time: from the acceptance of an SRV 11.1 for any
  device on it until the image is activated (SRV 11.3), reported complete or failed, or
  cancelled. S1SR 4.3: for each device in DeviceIDList whose HAN has an update in
  progress the S1SP rejects the request for that device only, the other listed devices
  proceed, and the response reports the outcome per device (outcome 0 accepted, 3 update
  in progress on the HAN). This project's reading of S1SR 4.2: the whole request is
  rejected (outcome 4 for the devices not sent).

  The estate: HAN-A holds the meter 00-DB-12-34-56-78-90-A0, HAN-B the meter
  00-DB-12-34-56-78-90-B0.

  Background:
    Given the firmware image "S1SR firmware image one" with version "00000101"
    And a firmware update is in progress on the HAN of device 00-DB-12-34-56-78-90-A0

  @s1sr-4.3
  Scenario Outline: S1SR 4.3 rejects only the device whose HAN is busy (<order>)
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices <devices>
    Then the response reports outcome <busy_outcome> at position <busy_position> naming "already in progress on HAN-A"
    And the response reports outcome 0 at position <free_position> naming "accepted"
    And the request is rejected
    And a new firmware update for device 00-DB-12-34-56-78-90-B0 is rejected with outcome 3

    Examples:
      | order            | devices                                           | busy_outcome | busy_position | free_position |
      | busy device first | 00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-B0 | 3            | 1             | 2             |
      | busy device last  | 00-DB-12-34-56-78-90-B0,00-DB-12-34-56-78-90-A0 | 3            | 2             | 1             |

  @s1sr-4.2
  Scenario Outline: S1SR 4.2 rejects the whole request when any listed HAN is busy (<order>)
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices <devices>
    Then the response reports outcome 3 at position <busy_position> naming "already in progress on HAN-A"
    And the response reports outcome 4 at position <free_position> naming "whole request is rejected"
    And the request is rejected
    And a new firmware update for device 00-DB-12-34-56-78-90-B0 is accepted

    Examples:
      | order             | devices                                         | busy_position | free_position |
      | busy device first | 00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-B0 | 1             | 2             |
      | busy device last  | 00-DB-12-34-56-78-90-B0,00-DB-12-34-56-78-90-A0 | 2             | 1             |

  Scenario: A request for a device on a busy HAN alone is rejected
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-A0
    Then the response reports outcome 3 at position 1 naming "already in progress on HAN-A"
    And the request is rejected

  Scenario: A request for devices on free HANs only succeeds
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-B0
    Then the request succeeds
    And the response reports outcome 0 at position 1 naming "accepted"

  @srv-11.3
  Scenario: Activating the image ends the update, and the HAN takes a new one
    When the User activates the firmware image on device 00-DB-12-34-56-78-90-A0
    Then the request succeeds
    And the response reports FirmwareVersion 00000101
    And a new firmware update for device 00-DB-12-34-56-78-90-A0 is accepted

  @srv-11.3
  Scenario: Activation with the wrong hash leaves the update in progress
    When the User activates the image "S1SR some other image" on device 00-DB-12-34-56-78-90-A0
    Then the request is rejected with outcome 2 naming "does not match"
    And a new firmware update for device 00-DB-12-34-56-78-90-A0 is rejected with outcome 3
