Feature: Medical services start within the deadline after arrival
  The clock starts on arrival in the US and stops at the first ServiceStarted for medical.
  The terms set the deadline: 30 days by default.

  Background:
    Given the settlement's terms are in force
    And family A was identified 300 days ago
    And family B was identified 300 days ago
    And family C was identified 300 days ago

  Scenario: Started in time is met, late is met late, not yet is open or overdue
    Given family A arrived in the US 60 days ago with parole until 1000 days from now
    And SENECA started medical services for family A 40 days ago
    And family B arrived in the US 60 days ago with parole until 1000 days from now
    And SENECA started medical services for family B 5 days ago
    And family C arrived in the US 10 days ago with parole until 1000 days from now
    Then the report counts "medical_coverage" as 1 met
    And the report counts "medical_coverage" as 1 met_late
    And the report counts "medical_coverage" as 1 open
    And the report gives "medical_coverage" a median of 37.5 days

  Scenario: No service after the deadline is overdue; no arrival, not applicable
    Given family A arrived in the US 60 days ago with parole until 1000 days from now
    Then the report counts "medical_coverage" as 1 overdue
    And the report counts "medical_coverage" as 2 not_applicable

  Scenario: A retracted start leaves the clock overdue
    Given family A arrived in the US 60 days ago with parole until 1000 days from now
    And SENECA started medical services for family A 40 days ago
    When SENECA retracted that event
    Then the report counts "medical_coverage" as 1 overdue

  Scenario: Correcting the start's date past the deadline makes it late
    Given family A arrived in the US 60 days ago with parole until 1000 days from now
    And SENECA started medical services for family A 40 days ago
    When SENECA corrected the date of that event to 10 days ago
    Then the report counts "medical_coverage" as 1 met_late

  Scenario: A start reported late meets the clock, but not in a noted report
    Given family A arrived in the US 60 days ago with parole until 1000 days from now
    And the monitor notes the report
    When SENECA started medical services for family A 40 days ago
    Then the report counts "medical_coverage" as 1 met
    And the noted report still counts "medical_coverage" as 1 overdue

  Scenario: A duplicate merged into its family takes its clock with it
    Given family A arrived in the US 60 days ago with parole until 1000 days from now
    And family B arrived in the US 60 days ago with parole until 1000 days from now
    When FRTF merged family B into family A
    Then the report counts "medical_coverage" as 1 overdue

  Scenario: An extension ordered after the clock started moves its deadline from then on
    Given family A arrived in the US 40 days ago with parole until 1000 days from now
    And the monitor notes the report
    When DOJ extended "medical_coverage" by 30 days effective 20 days ago
    Then the report counts "medical_coverage" as 1 open
    And the noted report still counts "medical_coverage" as 1 overdue
