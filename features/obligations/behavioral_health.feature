Feature: Behavioral health care stays available for the whole term
  Care kept available is a duration, not a deadline. The clock starts on arrival in the US (or a
  reunification in the US, if earlier), not before the terms took effect, and runs for the term
  (3 years by default). It is open while the care stays available, met only once the term has
  ended without an interruption, and breached from the first day within it that the care was
  interrupted: the family's own service ended as interrupted, or a provider's outage on the
  settlement's record. A breach is for good, even once care resumes; there is no median.

  Background:
    Given the settlement's terms are in force
    And family A was identified 900 days ago
    And family B was identified 900 days ago

  Scenario: Care is open while the term runs and breached from the day it was interrupted
    Given family A arrived in the US 100 days ago with parole until 1000 days from now
    And family B arrived in the US 100 days ago with parole until 1000 days from now
    And SENECA started behavioral_health services for family B 90 days ago
    When SENECA ended behavioral_health services for family B 50 days ago after an interruption
    Then the report counts "behavioral_health" as 1 open
    And the report counts "behavioral_health" as 1 breached
    And the overdue list reads "behavioral_health" of family B as "breached since 50 days ago"
    And the report gives "behavioral_health" no median

  Scenario: Care resumed after an interruption stays breached from the day it was interrupted
    Given family A arrived in the US 100 days ago with parole until 1000 days from now
    And SENECA started behavioral_health services for family A 90 days ago
    And SENECA ended behavioral_health services for family A 50 days ago after an interruption
    When SENECA started behavioral_health services for family A 40 days ago
    Then the report counts "behavioral_health" as 1 breached
    And the overdue list reads "behavioral_health" of family A as "breached since 50 days ago"

  Scenario: A term that ends uninterrupted is met
    Given family A arrived in the US 400 days ago with parole until 1000 days from now
    When the parties adopted terms setting "behavioral_health" to 300 days
    Then the report counts "behavioral_health" as 1 met

  Scenario: A reunification in the US starts the clock for a family that never arrived through a port
    Given FRTF reunified family A 50 days ago
    Then the report counts "behavioral_health" as 1 open
    And the report counts "behavioral_health" as 1 not_applicable

  Scenario: A provider's outage reported late breaks every running term, but not a noted report
    Given family A arrived in the US 100 days ago with parole until 1000 days from now
    And family B arrived in the US 100 days ago with parole until 1000 days from now
    And the monitor notes the report
    When SENECA recorded that behavioral_health services were interrupted from 30 days ago
    Then the report counts "behavioral_health" as 2 breached
    And the overdue list reads "behavioral_health" of family A as "breached since 30 days ago"
    And the noted report still counts "behavioral_health" as 2 open

  Scenario: A retracted interruption restores the term
    Given family A arrived in the US 100 days ago with parole until 1000 days from now
    And SENECA ended behavioral_health services for family A 50 days ago after an interruption
    When SENECA retracted that event
    Then the report counts "behavioral_health" as 1 open

  Scenario: Correcting the arrival date moves the term
    Given family A arrived in the US 400 days ago with parole until 1000 days from now
    And the parties adopted terms setting "behavioral_health" to 300 days
    When CBP corrected the date of that event to 100 days ago
    Then the report counts "behavioral_health" as 1 open

  Scenario: A duplicate merged into its family takes its clock with it
    Given family A arrived in the US 100 days ago with parole until 1000 days from now
    And family B arrived in the US 100 days ago with parole until 1000 days from now
    When FRTF merged family B into family A
    Then the report counts "behavioral_health" as 1 open
    And the report counts "behavioral_health" as 0 not_applicable

  Scenario: Extending the term after it started keeps it running
    Given family A arrived in the US 400 days ago with parole until 1000 days from now
    And the parties adopted terms setting "behavioral_health" to 300 days
    And the monitor notes the report
    When DOJ extended "behavioral_health" by 6 months effective 200 days ago
    Then the report counts "behavioral_health" as 1 open
    And the noted report still counts "behavioral_health" as 1 met
