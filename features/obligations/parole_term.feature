Feature: Parole stays in force for the whole term
  The parole term is a duration, not a deadline. The parole given on arrival, and each renewal
  from the day it is granted, must keep the family paroled from the parole start (not before the
  terms took effect) to the end of the term (3 years by default). The term is open while the
  parole holds, met only once the term has ended with the parole in force throughout, and breached
  from the first day of the term without a parole in force: a lapse, even if renewed later, or a
  parole ended early. A breach is for good: the term is never overdue, never met late, and has no
  median.

  Background:
    Given the settlement's terms are in force
    And family A was identified 2000 days ago
    And family B was identified 2000 days ago

  Scenario: No parole term is met before it has run; a shorter parole is open while it holds
    Given family A arrived in the US 100 days ago with parole until 1100 days from now
    And family B arrived in the US 100 days ago with parole until 200 days from now
    Then the report counts "parole_term" as 2 open
    And the report counts "parole_term" as 0 met
    And the report gives "parole_term" no median

  Scenario: A parole that lapsed is breached from its first uncovered day, even once renewed
    Given family A arrived in the US 400 days ago with parole that ended 30 days ago
    And family B arrived in the US 400 days ago with parole that ended 30 days ago
    And the monitor notes the report
    When USCIS renewed the parole of family B 10 days ago until 1000 days from now
    Then the report counts "parole_term" as 2 breached
    And the overdue list reads "parole_term" of family B as "breached since 29 days ago"
    And the noted report still counts "parole_term" as 2 breached

  Scenario: A parole that ran out before the terms took effect is breached from the effective date
    Given family A arrived in the US 1500 days ago with parole that ended 1200 days ago
    Then the report counts "parole_term" as 1 breached
    And the overdue list reads "parole_term" of family A as "breached since the terms' effective date"

  Scenario: A parole ended early breaks the term the day after it ended
    Given family A arrived in the US 400 days ago with parole until 700 days from now
    And the monitor notes the report
    When USCIS recorded that the parole of family A ended 20 days ago
    Then the report counts "parole_term" as 1 breached
    And the overdue list reads "parole_term" of family A as "breached since 19 days ago"
    And the noted report still counts "parole_term" as 1 open

  Scenario: A term that ran its course with the parole renewed in time is met
    Given the parties adopted terms setting "parole_term" to 300 days
    And family A arrived in the US 400 days ago with parole that ended 150 days ago
    When USCIS renewed the parole of family A 160 days ago until 1000 days from now
    Then the report counts "parole_term" as 1 met

  Scenario: A retracted renewal leaves the lapse it covered
    Given family A arrived in the US 400 days ago with parole that ended 30 days ago
    And USCIS renewed the parole of family A 40 days ago until 1000 days from now
    And the monitor notes the report
    When USCIS retracted that event
    Then the report counts "parole_term" as 1 breached
    And the noted report still counts "parole_term" as 1 open

  Scenario: Correcting the renewal's date to after the lapse makes the lapse a breach
    Given family A arrived in the US 400 days ago with parole that ended 30 days ago
    And USCIS renewed the parole of family A 40 days ago until 1000 days from now
    When USCIS corrected the date of that event to 10 days ago
    Then the report counts "parole_term" as 1 breached
    And the overdue list reads "parole_term" of family A as "breached since 29 days ago"

  Scenario: A duplicate merged into its family takes its clock with it
    Given family A arrived in the US 400 days ago with parole that ended 30 days ago
    And family B arrived in the US 400 days ago with parole that ended 30 days ago
    When FRTF merged family B into family A
    Then the report counts "parole_term" as 1 breached

  Scenario: Extending the term moves its end: a parole enough for the old end is breached within the new one
    Given the parties adopted terms setting "parole_term" to 300 days
    And family A arrived in the US 400 days ago with parole that ended 50 days ago
    And the monitor notes the report
    When DOJ extended "parole_term" by 6 months effective 150 days ago
    Then the report counts "parole_term" as 1 breached
    And the overdue list reads "parole_term" of family A as "breached since 49 days ago"
    And the noted report still counts "parole_term" as 1 met
