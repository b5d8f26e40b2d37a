@clause-18.63 @srv-11.1
Feature: 18.63 Firmware update while another is in progress on the same HAN
  A HAN runs one firmware update at a time: from the acceptance of an SRV 11.1 for any
  device on it until the image is activated (SRV 11.3), reported complete or failed, or
  cancelled. S1SR 4.3: for each device in DeviceIDList whose HAN has an update in
  progress the S1SP rejects the request for that device only, the other listed devices
  proceed, and the response reports the outcome per device ("accepted", or "update in
  progress on the device's HAN"). This project's reading of S1SR 4.2: the whole request
  is rejected ("whole request rejected" for the devices not sent). Outcomes are named by
  their class; the catalogue gives the code that carries each.

  The estate: the meter 00-DB-12-34-56-78-90-A0 and the Communications Hub
  00-DB-12-34-56-78-90-A2 on one HAN, the meter 00-DB-12-34-56-78-90-B0 and the
  Communications Hub 00-DB-12-34-56-78-90-B2 on another. A HAN is named as the estate
  under test names it: "the HAN of device ...".

  Background:
    Given the estate has devices 00-DB-12-34-56-78-90-A0 and 00-DB-12-34-56-78-90-A2 on one HAN and devices 00-DB-12-34-56-78-90-B0 and 00-DB-12-34-56-78-90-B2 on another
    And the firmware image "S1SR firmware image one" with version "00000101"
    And a firmware update is in progress on the HAN of device 00-DB-12-34-56-78-90-A0

  @s1sr-4.3
  Scenario Outline: S1SR 4.3 rejects only the device whose HAN is busy (<order>)
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices <devices>
    Then the response reports outcome "update in progress on the device's HAN" at position <busy_position> naming the HAN of device 00-DB-12-34-56-78-90-A0
    And the response reports outcome "accepted" at position <free_position>
    And the request is rejected
    And a new firmware update for device 00-DB-12-34-56-78-90-B0 is rejected with outcome "update in progress on the device's HAN"

    Examples:
      | order             | devices                                         | busy_position | free_position |
      | busy device first | 00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-B0 | 1             | 2             |
      | busy device last  | 00-DB-12-34-56-78-90-B0,00-DB-12-34-56-78-90-A0 | 2             | 1             |

  @s1sr-4.2
  Scenario Outline: S1SR 4.2 rejects the whole request when any listed HAN is busy (<order>)
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices <devices>
    Then the response reports outcome "update in progress on the device's HAN" at position <busy_position> naming the HAN of device 00-DB-12-34-56-78-90-A0
    And the response reports outcome "whole request rejected" at position <free_position>
    And the request is rejected
    And a new firmware update for device 00-DB-12-34-56-78-90-B0 is accepted

    Examples:
      | order             | devices                                         | busy_position | free_position |
      | busy device first | 00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-B0 | 1             | 2             |
      | busy device last  | 00-DB-12-34-56-78-90-B0,00-DB-12-34-56-78-90-A0 | 2             | 1             |

  Scenario: A request for a device on a busy HAN alone is rejected
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-A0
    Then the response reports outcome "update in progress on the device's HAN" at position 1 naming the HAN of device 00-DB-12-34-56-78-90-A0
    And the request is rejected

  Scenario: A request for devices on free HANs only succeeds
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-B0
    Then the request succeeds
    And the response reports outcome "accepted" at position 1

  @srv-11.3
  Scenario: Activating the image ends the update, and the HAN takes a new one
    When the User activates the firmware image on device 00-DB-12-34-56-78-90-A0
    Then the request succeeds
    And the response reports FirmwareVersion 00000101
    And a new firmware update for device 00-DB-12-34-56-78-90-A0 is accepted

  @srv-11.3
  Scenario: Activation with the wrong hash leaves the update in progress
    When the User activates the image "S1SR some other image" on device 00-DB-12-34-56-78-90-A0
    Then the request is rejected with outcome "device rejected"
    And a new firmware update for device 00-DB-12-34-56-78-90-A0 is rejected with outcome "update in progress on the device's HAN"

  Scenario: The Communications Hub holds the update in progress on its HAN
    Then the Communications Hub state shows firmware_transfer.firmware_version 00000101
    And the Communications Hub state shows firmware_transfer.image_hash 528BA5325958E2436E8B6D24E4D057200DE16412CEFE0B60D73888B421E454E1

  Scenario: An accepted device's outcome names its HAN, and its command carries the image, its hash and its version
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-B0
    Then the request succeeds
    And the response reports outcome "accepted" at position 1 naming the HAN of device 00-DB-12-34-56-78-90-B0
    And device 00-DB-12-34-56-78-90-B0 received TransferFirmware with image_base64 UzFTUiBmaXJtd2FyZSBpbWFnZSB0d28=
    And device 00-DB-12-34-56-78-90-B0 received TransferFirmware with image_hash 019A2A288B917CB885A6EC030378F2A0933BD04E5C5C7733D94E6BA8CFA44B68
    And device 00-DB-12-34-56-78-90-B0 received TransferFirmware with firmware_version 00000102
    And the state of device 00-DB-12-34-56-78-90-B2 shows firmware_transfer.firmware_version 00000102

  @srv-11.3
  Scenario: Activation installs the image's version on the meter and ends the update on its HAN
    When the User activates the firmware image on device 00-DB-12-34-56-78-90-A0
    Then the request succeeds
    And the meter state shows firmware_version 00000101
    And the Communications Hub state has no firmware_transfer.firmware_version

  @srv-11.3
  Scenario: Activation on a device of the busy HAN that the update was not sent to is rejected
    When the User activates the firmware image on device 00-DB-12-34-56-78-90-A2
    Then the request is rejected with outcome "device rejected"
    And a new firmware update for device 00-DB-12-34-56-78-90-A0 is rejected with outcome "update in progress on the device's HAN"

  @srv-11.3
  Scenario: Activation on a device whose HAN has no update in progress is rejected and leaves the device as it was
    Given the state of device 00-DB-12-34-56-78-90-B0 is noted
    When the User activates the image "S1SR firmware image one" on device 00-DB-12-34-56-78-90-B0
    Then the request is rejected with outcome "device rejected"
    And the state of device 00-DB-12-34-56-78-90-B0 is as noted

  @srv-11.3
  Scenario: Two devices of one request on a free HAN take the same update; the HAN is busy until both are activated
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-B0,00-DB-12-34-56-78-90-B2
    Then the request succeeds
    And the response reports outcome "accepted" at position 1
    And the response reports outcome "accepted" at position 2
    When the User activates the image "S1SR firmware image two" on device 00-DB-12-34-56-78-90-B0
    Then the request succeeds
    And the state of device 00-DB-12-34-56-78-90-B0 shows firmware_version 00000102
    And a new firmware update for device 00-DB-12-34-56-78-90-B0 is rejected with outcome "update in progress on the device's HAN"
    When the User activates the image "S1SR firmware image two" on device 00-DB-12-34-56-78-90-B2
    Then the request succeeds
    And a new firmware update for device 00-DB-12-34-56-78-90-B0 is accepted

  Scenario: A FirmwareImage written over several lines, as xs:base64Binary allows, is the same image
    Given the firmware image "S1SR firmware image two" with version "00000102", its base64 wrapped every 16 characters
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-B0
    Then the request succeeds
    And device 00-DB-12-34-56-78-90-B0 received TransferFirmware with image_hash 019A2A288B917CB885A6EC030378F2A0933BD04E5C5C7733D94E6BA8CFA44B68

  @s1sr-4.2
  Scenario: S1SR 4.2: the outcome of a device not sent names the device whose HAN is busy
    Given the firmware image "S1SR firmware image two" with version "00000102"
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-B0,00-DB-12-34-56-78-90-A0
    Then the response reports outcome "whole request rejected" at position 1 naming device 00-DB-12-34-56-78-90-A0
    And the response reports outcome "update in progress on the device's HAN" at position 2 naming the HAN of device 00-DB-12-34-56-78-90-A0
