@clause-23
Feature: Clause 23 and Annex C: default values
  Where a Secure device command needs a value that the DUIS Service Request does not
  carry, the S1SP appends the default Annex C gives for that Service Request. The harness
  decides where a field came from, never the S1SP: from the request when the request the
  User sent carries it, from Annex C when the catalogue's Annex C entry gives it and the
  command holds that value. This project holds no designated Annex C values: the catalogue
  marks each entry "interpretation".

  @srv-1.6
  Scenario: SRV 1.6 appends the debt recovery rate from Annex C
    Given the meter is in credit mode
    When the User changes the payment mode to prepayment with DisablementThreshold 0, SuspendDebtDisabled false and SuspendDebtEmergency false
    Then the field debt_recovery_per_payment_percent of SetPaymentMode came from Annex C with value 0
    And the field disablement_threshold_pence of SetPaymentMode came from the request's DisablementThreshold

  @srv-2.1
  Scenario: SRV 2.1 appends the emergency credit auto-activation from Annex C
    When the User updates the prepayment configuration with EmergencyCreditLimit 300000
    Then the field emergency_credit_auto_activation of SetPrepayConfiguration came from Annex C with value false
    And the field emergency_credit_limit_pence of SetPrepayConfiguration came from the request's EmergencyCreditLimit

  @srv-8.11
  Scenario: SRV 8.11 appends the join method from Annex C
    When the User adds device 00-DB-12-34-56-78-90-C1 to the Communications Hub whitelist with JoinTimePeriod 90
    Then the field join_method of AddToJoinWhitelist came from Annex C with value install-code
    And the field join_minutes of AddToJoinWhitelist came from the request's JoinTimePeriod

  @srv-11.1
  Scenario: SRV 11.1 appends the activation mode from Annex C
    Given the firmware image "S1SR firmware image one" with version "00000101"
    When the User updates the firmware of devices 00-DB-12-34-56-78-90-B0
    Then the field activation of TransferFirmware came from Annex C with value await-11.3
    And the field image_hash of TransferFirmware came from the request's FirmwareImage

  @srv-1.6
  Scenario: SRV 1.6 to credit mode appends the debt recovery rate from Annex C too
    Given the meter is in prepayment mode
    When the User changes the payment mode to credit
    Then the field debt_recovery_per_payment_percent of SetPaymentMode came from Annex C with value 0

  @srv-1.6
  Scenario: The meter holds the Annex C debt recovery rate after a change to prepayment
    Given the meter is in credit mode
    When the User changes the payment mode to prepayment with DisablementThreshold 0, SuspendDebtDisabled false and SuspendDebtEmergency false
    Then the request succeeds
    And the meter state shows debt_recovery_per_payment_percent 0

  @srv-8.11
  Scenario: The source of a field names the S1SR version and the provenance of its Annex C entry
    When the User adds device 00-DB-12-34-56-78-90-C1 to the Communications Hub whitelist with JoinTimePeriod 90
    Then the field join_method of AddToJoinWhitelist came from "Annex C, S1SR 4.3 (interpretation)"
