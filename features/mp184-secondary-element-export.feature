@mp-184 @clause-MP184.1
Feature: MP184.1 Secondary-element export refused on a SMETS1 twin-element ESME
  MP184 gives SMETS2 twin-element ESMEs an Active Export register on the secondary element, its
  TOU registers, a load-profile channel and an export MPAN. It changes SMETS2, not SMETS1. As this
  project reads it (interpretation): under MP184 a 4.2 or 4.8.3 to a twin-element ESME asks for
  the secondary element's export too, which a SMETS1 twin-element ESME does not hold, so the
  S1SP refuses it E11 before any device command, and the device is unchanged. Only the
  twin-element DMC (secure-esme-twin) is in scope: s1sr run --modification MP184 --dmc secure-esme-twin.

  Background:
    Given the meter's export register reads 5000 Wh
    And the User is an Export Supplier

  @srv-4.2
  Scenario: SRV 4.2 to a twin-element ESME is refused E11
    Given the state of device 00-DB-12-34-56-78-90-A0 is noted
    When the User reads the instantaneous export registers
    Then the request is refused with DUIS response code E11
    And no device command was sent
    And the state of device 00-DB-12-34-56-78-90-A0 is as noted

  @srv-4.8.3
  Scenario: SRV 4.8.3 to a twin-element ESME is refused E11
    Given the meter recorded these half-hour export values:
      | start                | Wh |
      | 2025-12-31T12:00:00Z | 80 |
    When the User reads the export profile data from 2025-12-31T00:00:00Z to 2026-01-01T00:00:00Z
    Then the request is refused with DUIS response code E11
    And no device command was sent

  @srv-4.1.1
  Scenario: SRV 4.1.1 to a twin-element ESME is answered as before
    Given the meter's import register reads 12000 Wh
    And the User is an Import Supplier
    When the User reads the instantaneous import registers
    Then the DUIS response code is I0
    And the response carries the import register at 12000 Wh
