Feature: Each parole request gets a decision within the deadline
  The clock starts at the first ParoleRequested and stops at the first ParoleDecided on or after it,
  granted or denied. The terms set the deadline: 60 days by default.

  Background:
    Given the settlement's terms are in force
    And family A was identified 200 days ago
    And family B was identified 200 days ago
    And family C was identified 200 days ago

  Scenario: Decided in time is met, undecided is open or overdue, and no request is not applicable
    Given family D was identified 200 days ago
    And IOM requested parole for family A 70 days ago
    And USCIS decided on parole for family A 20 days ago
    And IOM requested parole for family B 30 days ago
    And IOM requested parole for family C 90 days ago
    Then the report counts "parole_decision" as 1 met
    And the report counts "parole_decision" as 1 open
    And the report counts "parole_decision" as 1 overdue
    And the report counts "parole_decision" as 1 not_applicable
    And the report gives "parole_decision" a median of 50 days

  Scenario: A decision reported late turns the overdue clock into met late, but not in a noted report
    Given IOM requested parole for family A 90 days ago
    And the monitor notes the report
    When USCIS decided on parole for family A 10 days ago
    Then the report counts "parole_decision" as 1 met_late
    And the noted report still counts "parole_decision" as 1 overdue

  Scenario: A retracted decision reopens the clock
    Given IOM requested parole for family A 30 days ago
    And USCIS decided on parole for family A 10 days ago
    When USCIS retracted that event
    Then the report counts "parole_decision" as 1 open

  Scenario: Correcting the decision's date past the deadline makes it late
    Given IOM requested parole for family A 90 days ago
    And USCIS decided on parole for family A 50 days ago
    When USCIS corrected the date of that event to 20 days ago
    Then the report counts "parole_decision" as 1 met_late
    And the report gives "parole_decision" a median of 70 days

  Scenario: A duplicate merged into its family takes its clock with it
    Given IOM requested parole for family A 90 days ago
    And IOM requested parole for family B 90 days ago
    When FRTF merged family B into family A
    Then the report counts "parole_decision" as 1 overdue

  Scenario: An extension ordered after the clock started moves its deadline from then on
    Given IOM requested parole for family A 70 days ago
    And the monitor notes the report
    When DOJ extended "parole_decision" by 30 days effective 20 days ago
    Then the report counts "parole_decision" as 1 open
    And the noted report still counts "parole_decision" as 1 overdue
