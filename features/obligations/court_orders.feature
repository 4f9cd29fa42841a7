Feature: A court order extends an obligation once
  A DeadlineExtended records a court order moving one obligation's deadlines (or term ends). The
  same order recorded again for the same obligation, by whoever posts it, is refused as a conflict
  naming the event that recorded it, and the extension counts once. The same order may extend
  another obligation.

  Background:
    Given the settlement's terms are in force
    And family A was identified 900 days ago
    And family A arrived in the US 400 days ago with parole that ended 40 days ago

  Scenario: The same order recorded again is refused, naming the event that recorded it
    Given DOJ extended "parole_renewal" by 30 days effective 50 days ago
    When ACLU records the same order for "parole_renewal" again
    Then it is refused as a conflict naming the event that recorded the order
    And the report counts "parole_renewal" as 1 overdue
    And the report's terms list the order for "parole_renewal" once

  Scenario: The same order may extend another obligation
    Given DOJ extended "parole_renewal" by 30 days effective 50 days ago
    When DOJ extended "parole_term" by 6 months effective 50 days ago
    Then the report's terms list the order for "parole_renewal" once
    And the report's terms list the order for "parole_term" once
