Feature: Work authorization is decided within the deadline after arrival
  The clock starts on arrival in the US and stops at the first WorkAuthorizationDecided.
  The terms set the deadline: 90 days by default.

  Background:
    Given the settlement's terms are in force
    And family A was identified 300 days ago
    And family B was identified 300 days ago
    And family C was identified 300 days ago

  Scenario: Decided in time is met; undecided is open or overdue
    Given family A arrived in the US 100 days ago with parole until 900 days from now
    And USCIS decided on work authorization for family A 50 days ago
    And family B arrived in the US 100 days ago with parole until 900 days from now
    And family C arrived in the US 30 days ago with parole until 1000 days from now
    Then the report counts "work_authorization_decision" as 1 met
    And the report counts "work_authorization_decision" as 1 overdue
    And the report counts "work_authorization_decision" as 1 open
    And the report gives "work_authorization_decision" a median of 50 days

  Scenario: A family that has not arrived has no clock
    Then the report counts "work_authorization_decision" as 3 not_applicable

  Scenario: A retracted decision leaves the clock overdue
    Given family A arrived in the US 100 days ago with parole until 900 days from now
    And USCIS decided on work authorization for family A 50 days ago
    When USCIS retracted that event
    Then the report counts "work_authorization_decision" as 1 overdue

  Scenario: Correcting the decision's date past the deadline makes it late
    Given family A arrived in the US 100 days ago with parole until 900 days from now
    And USCIS decided on work authorization for family A 50 days ago
    When USCIS corrected the date of that event to 5 days ago
    Then the report counts "work_authorization_decision" as 1 met_late

  Scenario: A decision reported late meets the clock, but not in a noted report
    Given family A arrived in the US 100 days ago with parole until 900 days from now
    And the monitor notes the report
    When USCIS decided on work authorization for family A 50 days ago
    Then the report counts "work_authorization_decision" as 1 met
    And the noted report still counts "work_authorization_decision" as 1 overdue

  Scenario: A duplicate merged into its family takes its clock with it
    Given family A arrived in the US 100 days ago with parole until 900 days from now
    And family B arrived in the US 100 days ago with parole until 900 days from now
    When FRTF merged family B into family A
    Then the report counts "work_authorization_decision" as 1 overdue

  Scenario: An extension ordered after the clock started moves its deadline from then on
    Given family A arrived in the US 100 days ago with parole until 900 days from now
    When DOJ extended "work_authorization_decision" by 30 days effective 20 days ago
    Then the report counts "work_authorization_decision" as 1 open
