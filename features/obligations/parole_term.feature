Feature: Parole granted on arrival lasts the whole term
  The clock starts at the parole start given on arrival (not before the terms took effect). It is
  met once the parole, as granted or renewed, covers the term (3 years by default); met late if a
  renewal came after the parole had lapsed; overdue from the day after the parole lapses uncovered.

  Background:
    Given the settlement's terms are in force
    And family A was identified 500 days ago
    And family B was identified 500 days ago

  Scenario: Parole for the whole term is met on arrival; a shorter one is open while it runs
    Given family A arrived in the US 100 days ago with parole until 1100 days from now
    And family B arrived in the US 100 days ago with parole until 200 days from now
    Then the report counts "parole_term" as 1 met
    And the report counts "parole_term" as 1 open
    And the report gives "parole_term" a median of 0 days

  Scenario: A parole that lapsed uncovered is overdue; renewing it after the lapse is met late
    Given family A arrived in the US 400 days ago with parole that ended 30 days ago
    And family B arrived in the US 400 days ago with parole that ended 30 days ago
    And the monitor notes the report
    When USCIS renewed the parole of family B 10 days ago until 1000 days from now
    Then the report counts "parole_term" as 1 overdue
    And the report counts "parole_term" as 1 met_late
    And the noted report still counts "parole_term" as 2 overdue

  Scenario: A renewal before the parole runs out meets the term
    Given family A arrived in the US 100 days ago with parole until 200 days from now
    When USCIS renewed the parole of family A 5 days ago until 1100 days from now
    Then the report counts "parole_term" as 1 met
    And the report gives "parole_term" a median of 95 days

  Scenario: A retracted renewal leaves the parole short of the term again
    Given family A arrived in the US 100 days ago with parole until 200 days from now
    And USCIS renewed the parole of family A 5 days ago until 1100 days from now
    When USCIS retracted that event
    Then the report counts "parole_term" as 1 open

  Scenario: Correcting the renewal's date to after the lapse makes the term met late
    Given family A arrived in the US 400 days ago with parole that ended 30 days ago
    And USCIS renewed the parole of family A 40 days ago until 1000 days from now
    When USCIS corrected the date of that event to 10 days ago
    Then the report counts "parole_term" as 1 met_late

  Scenario: A duplicate merged into its family takes its clock with it
    Given family A arrived in the US 400 days ago with parole that ended 30 days ago
    And family B arrived in the US 400 days ago with parole that ended 30 days ago
    When FRTF merged family B into family A
    Then the report counts "parole_term" as 1 overdue

  Scenario: Extending the term after the clock started leaves a parole that was enough short of it
    Given family A arrived in the US 100 days ago with parole until 1100 days from now
    And the monitor notes the report
    When DOJ extended "parole_term" by 6 months effective 20 days ago
    Then the report counts "parole_term" as 1 open
    And the noted report still counts "parole_term" as 1 met
