Feature: Class members can file for asylum within the window
  The window opens at the membership determination (member or qafm), or at the settlement's
  effective date if that is later, and closes at the first AsylumApplicationFiled. The terms set
  its length: 2 years by default; the court extended it by a year in 2025.

  Background:
    Given the settlement's terms are in force
    And family A was identified 900 days ago
    And family B was identified 900 days ago
    And family C was identified 900 days ago

  Scenario: Filed in the window is met, still open while it runs, and no window for non-members
    Given FRTF determined family A to be "member" 100 days ago
    And ACACIA filed an asylum application for family A 50 days ago
    And FRTF determined family B to be "member" 100 days ago
    And FRTF determined family C to be "excluded" 100 days ago
    Then the report counts "asylum_filing_window" as 1 met
    And the report counts "asylum_filing_window" as 1 open
    And the report counts "asylum_filing_window" as 1 not_applicable
    And the report gives "asylum_filing_window" a median of 50 days

  Scenario: The window closes after two years; a filing after it is met late
    Given FRTF determined family A to be "member" 800 days ago
    And FRTF determined family B to be "member" 800 days ago
    And ACACIA filed an asylum application for family B 10 days ago
    Then the report counts "asylum_filing_window" as 1 overdue
    And the report counts "asylum_filing_window" as 1 met_late

  Scenario: The court's extension reopens windows still open on its effective date, from then on
    Given FRTF determined family A to be "member" 800 days ago
    And FRTF determined family B to be "member" 900 days ago
    And the monitor notes the report
    When DOJ extended "asylum_filing_window" by 1 years effective 100 days ago
    Then the report counts "asylum_filing_window" as 1 open
    And the report counts "asylum_filing_window" as 1 overdue
    And the noted report still counts "asylum_filing_window" as 2 overdue

  Scenario: A retracted filing leaves the window open
    Given FRTF determined family A to be "member" 100 days ago
    And ACACIA filed an asylum application for family A 50 days ago
    When ACACIA retracted that event
    Then the report counts "asylum_filing_window" as 1 open

  Scenario: Correcting the membership decision's date moves the window
    Given FRTF determined family A to be "member" 100 days ago
    When FRTF corrected the date of that event to 800 days ago
    Then the report counts "asylum_filing_window" as 1 overdue

  Scenario: A filing reported late meets the window, but not in a noted report
    Given FRTF determined family A to be "member" 800 days ago
    And the monitor notes the report
    When ACACIA filed an asylum application for family A 700 days ago
    Then the report counts "asylum_filing_window" as 1 met
    And the noted report still counts "asylum_filing_window" as 1 overdue

  Scenario: A duplicate merged into its family takes its clock with it
    Given FRTF determined family A to be "member" 100 days ago
    And FRTF determined family B to be "member" 100 days ago
    When FRTF merged family B into family A
    Then the report counts "asylum_filing_window" as 1 open
    And the report counts "asylum_filing_window" as 1 not_applicable
