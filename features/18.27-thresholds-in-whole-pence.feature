@clause-18.27 @srv-2.1 @srv-4.13
Feature: 18.27 Prepayment thresholds truncated to whole pence
  EmergencyCreditLimit, EmergencyCreditThreshold, LowCreditThreshold, MaxMeterBalance,
  MaxCreditThreshold (SRV 2.1) and DisablementThreshold (SRV 1.6) are stored as whole
  pence, truncated toward zero. SRV 4.13 returns the stored values x 1000, not the
  requested ones. DebtRecoveryRateCap is not money in 10^-5 units and passes unchanged.

  Background:
    Given the meter is in prepayment mode

  Scenario Outline: <field> <value> is stored as <pence> pence and read back as <reported>
    When the User updates the prepayment configuration with <field> <value>
    Then the request succeeds
    And the meter received SetPrepayConfiguration with <command_field> <pence>
    And SRV 4.13 reports <read_field> <reported>

    Examples: any meter
      | field                    | value      | command_field                    | pence   | read_field               | reported   |
      | EmergencyCreditLimit     | 300999     | emergency_credit_limit_pence     | 300     | EmergencyCreditLimit     | 300000     |
      | EmergencyCreditLimit     | 999        | emergency_credit_limit_pence     | 0       | EmergencyCreditLimit     | 0          |
      | EmergencyCreditLimit     | 0          | emergency_credit_limit_pence     | 0       | EmergencyCreditLimit     | 0          |
      | EmergencyCreditLimit     | 2147483647 | emergency_credit_limit_pence     | 2147483 | EmergencyCreditLimit     | 2147483000 |
      | EmergencyCreditThreshold | 100500     | emergency_credit_threshold_pence | 100     | EmergencyCreditThreshold | 100000     |
      | EmergencyCreditThreshold | 1          | emergency_credit_threshold_pence | 0       | EmergencyCreditThreshold | 0          |
      | LowCreditThreshold       | 200001     | low_credit_threshold_pence       | 200     | LowCreditThreshold       | 200000     |
      | MaxMeterBalance          | 5000999    | max_meter_balance_pence          | 5000    | MaxCreditMaxMeterBalance | 5000000    |
      | MaxCreditThreshold       | 1000999    | max_credit_threshold_pence       | 1000    | CreditMaxCreditThreshold | 1000000    |

    @fuel-electricity
    Examples: negative values, which only the electricity configuration (xs:int) can carry
      | field                    | value       | command_field                    | pence    | read_field               | reported    |
      | EmergencyCreditThreshold | -1          | emergency_credit_threshold_pence | 0        | EmergencyCreditThreshold | 0           |
      | EmergencyCreditThreshold | -1500       | emergency_credit_threshold_pence | -1       | EmergencyCreditThreshold | -1000       |
      | LowCreditThreshold       | -2147483648 | low_credit_threshold_pence       | -2147483 | LowCreditThreshold       | -2147483000 |

    @fuel-gas
    Examples: the largest values the gas configuration (xs:unsignedInt) can carry
      | field                | value      | command_field                | pence   | read_field           | reported   |
      | EmergencyCreditLimit | 4294967295 | emergency_credit_limit_pence | 4294967 | EmergencyCreditLimit | 4294967000 |
      | MaxMeterBalance      | 4294967295 | max_meter_balance_pence      | 4294967 | MaxCreditMaxMeterBalance | 4294967000 |

  Scenario Outline: DebtRecoveryRateCap <value> is passed unchanged
    When the User updates the prepayment configuration with DebtRecoveryRateCap <value>
    Then the request succeeds
    And the meter received SetPrepayConfiguration with debt_recovery_rate_cap <value>
    And SRV 4.13 reports DebtRecoveryRateCap <value>

    Examples:
      | value |
      | 0     |
      | 30    |
      | 999   |
      | 1500  |
      | 65535 |

  Scenario Outline: DisablementThreshold <value> from SRV 1.6 is stored as <pence> pence
    Given the meter is in credit mode
    When the User changes the payment mode to prepayment with DisablementThreshold <value>, SuspendDebtDisabled false and SuspendDebtEmergency false
    Then the meter received SetPaymentMode with disablement_threshold_pence <pence>
    And SRV 4.13 reports DisablementThreshold <reported>

    Examples:
      | value  | pence | reported |
      | 123456 | 123   | 123000   |
      | 999    | 0     | 0        |
      | -1999  | -1    | -1000    |

  Scenario: A threshold above the DUIS range is refused before it reaches the meter
    When the User sends a prepayment configuration with EmergencyCreditLimit 4294967296 that is not valid DUIS
    Then the S1SP refuses the request naming "EmergencyCreditLimit"
    And no device command was sent
