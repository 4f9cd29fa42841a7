Feature: First outreach reaches every identified family within the deadline
  The clock starts when a separation is identified (not before the terms took effect) and stops at
  the first contact attempt, whatever its outcome. The terms set the deadline: 30 days by default.

  Background:
    Given the settlement's terms are in force

  Scenario: An attempt within the deadline meets it, whatever its outcome
    Given family A was identified 40 days ago
    And KIND attempted to contact family A 35 days ago with outcome "no_answer"
    Then the report counts "first_outreach" as 1 met
    And the report gives "first_outreach" a median of 5 days

  Scenario: A clock still running is open, one past its deadline overdue, a late attempt met late
    Given family A was identified 10 days ago
    And family B was identified 40 days ago
    And family C was identified 50 days ago
    And WRC attempted to contact family C 2 days ago with outcome "reached"
    Then the report counts "first_outreach" as 1 open
    And the report counts "first_outreach" as 1 overdue
    And the report counts "first_outreach" as 1 met_late
    And the report counts "first_outreach" as 0 not_applicable
    And the report gives "first_outreach" a median of 48 days

  Scenario: A retracted attempt no longer meets the obligation
    Given family A was identified 40 days ago
    And KIND attempted to contact family A 35 days ago with outcome "no_answer"
    When KIND retracted that event
    Then the report counts "first_outreach" as 1 overdue
    And the report gives "first_outreach" no median

  Scenario: Correcting the attempt's date past the deadline makes it late
    Given family A was identified 40 days ago
    And KIND attempted to contact family A 35 days ago with outcome "no_answer"
    When KIND corrected the date of that event to 5 days ago
    Then the report counts "first_outreach" as 1 met_late

  Scenario: A late report changes the past it reports on, but not a report already noted
    Given family A was identified 40 days ago
    And the monitor notes the report
    When KIND attempted to contact family A 35 days ago with outcome "no_answer"
    Then the noted report still counts "first_outreach" as 1 overdue
    And the report counts "first_outreach" as 1 met
    And the report counts 2 late_reports in its data quality

  Scenario: A duplicate merged into its family takes its clock with it
    Given family A was identified 40 days ago
    And family B was identified 40 days ago
    When FRTF merged family B into family A
    Then the report counts "first_outreach" as 1 overdue
    And the report counts "first_outreach" as 0 not_applicable

  Scenario: An extension ordered after the clock started moves its deadline from then on
    Given family A was identified 40 days ago
    And the monitor notes the report
    When DOJ extended "first_outreach" by 30 days effective 20 days ago
    Then the report counts "first_outreach" as 1 open
    And the noted report still counts "first_outreach" as 1 overdue

  Scenario: An extension never revives a deadline that had passed when it took effect
    Given family A was identified 80 days ago
    When DOJ extended "first_outreach" by 30 days effective 20 days ago
    Then the report counts "first_outreach" as 1 overdue

  Scenario: New terms adopted by the parties apply from then on
    Given family A was identified 40 days ago
    When the parties adopted terms setting "first_outreach" to 45 days
    Then the report counts "first_outreach" as 1 open
