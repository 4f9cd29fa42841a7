Feature: Parole is renewed before it expires
  The renewal is due on the parole end given on arrival; its clock starts the terms' lead time
  before that date (90 days by default) and stops at the first ParoleRenewed.

  Background:
    Given the settlement's terms are in force
    And family A was identified 900 days ago
    And family B was identified 900 days ago
    And family C was identified 900 days ago

  Scenario: Not started far from expiry, open near it, overdue once the parole ran out
    Given family A arrived in the US 100 days ago with parole until 300 days from now
    And family B arrived in the US 100 days ago with parole until 60 days from now
    And family C arrived in the US 400 days ago with parole that ended 10 days ago
    Then the report counts "parole_renewal" as 1 not_applicable
    And the report counts "parole_renewal" as 1 open
    And the report counts "parole_renewal" as 1 overdue

  Scenario: Renewed before expiry is met, after it met late
    Given family A arrived in the US 100 days ago with parole until 60 days from now
    And USCIS renewed the parole of family A 10 days ago until 1000 days from now
    And family B arrived in the US 400 days ago with parole that ended 10 days ago
    And USCIS renewed the parole of family B 5 days ago until 1000 days from now
    Then the report counts "parole_renewal" as 1 met
    And the report counts "parole_renewal" as 1 met_late
    And the report gives "parole_renewal" a median of 57.5 days

  Scenario: A retracted renewal leaves the parole unrenewed
    Given family A arrived in the US 400 days ago with parole that ended 10 days ago
    And USCIS renewed the parole of family A 20 days ago until 1000 days from now
    When USCIS retracted that event
    Then the report counts "parole_renewal" as 1 overdue

  Scenario: Correcting the renewal's date past the expiry makes it late
    Given family A arrived in the US 400 days ago with parole that ended 10 days ago
    And USCIS renewed the parole of family A 20 days ago until 1000 days from now
    When USCIS corrected the date of that event to 5 days ago
    Then the report counts "parole_renewal" as 1 met_late

  Scenario: A renewal reported late meets the clock, but not in a noted report
    Given family A arrived in the US 400 days ago with parole that ended 10 days ago
    And the monitor notes the report
    When USCIS renewed the parole of family A 20 days ago until 1000 days from now
    Then the report counts "parole_renewal" as 1 met
    And the noted report still counts "parole_renewal" as 1 overdue

  Scenario: A duplicate merged into its family takes its clock with it
    Given family A arrived in the US 400 days ago with parole that ended 10 days ago
    And family B arrived in the US 400 days ago with parole that ended 10 days ago
    When FRTF merged family B into family A
    Then the report counts "parole_renewal" as 1 overdue

  Scenario: An extension ordered after the clock started moves the renewal's deadline from then on
    Given family A arrived in the US 400 days ago with parole that ended 10 days ago
    And the monitor notes the report
    When DOJ extended "parole_renewal" by 30 days effective 20 days ago
    Then the report counts "parole_renewal" as 1 open
    And the noted report still counts "parole_renewal" as 1 overdue
