Feature: The overdue list shows what is overdue or breached, longest first, in each kind's words
  The list holds every deadline overdue and every duration breached at the as-of point: as many
  as the report counts. The longest overdue or breached come first, then by case id and
  obligation. A deadline reads "due D, overdue since" the day after; a duration (parole term,
  behavioral health) reads "breached since" the first day it was broken, and has no due date. The
  list is read a page at a time, each page going on where the one before ended.

  Background:
    Given the settlement's terms are in force
    And family A was identified 100 days ago
    And family B was identified 400 days ago
    And KIND attempted to contact family B 390 days ago with outcome "reached"
    And family B arrived in the US 300 days ago with parole that ended 50 days ago
    And SENECA ended behavioral_health services for family B 250 days ago after an interruption

  Scenario: Deadlines overdue and durations breached, longest first, each in its own words
    Then the overdue list reads, longest first:
      | case | obligation                  | reads                                        |
      | B    | housing_assistance          | due 270 days ago, overdue since 269 days ago |
      | B    | medical_coverage            | due 270 days ago, overdue since 269 days ago |
      | B    | behavioral_health           | breached since 250 days ago                  |
      | B    | work_authorization_decision | due 210 days ago, overdue since 209 days ago |
      | A    | first_outreach              | due 70 days ago, overdue since 69 days ago   |
      | B    | parole_renewal              | due 50 days ago, overdue since 49 days ago   |
      | B    | parole_term                 | breached since 49 days ago                   |
    And the overdue list's total is what the report counts overdue and breached

  Scenario: Read a page at a time, each page goes on where the one before ended
    When the monitor reads the overdue list 4 at a time
    Then the pages hold 4 and 3 obligations, the whole list in its order, each once
