Feature: How the compliance report counts children and families
  The parties argue about numbers, so every number has one definition, published with the report.
  A child still to reunify has the first status that holds: declined, in process, informed,
  whereabouts unknown, not reached. Only counted cases count: identified, not retracted, not
  closed as excluded or duplicate, not merged into another case.

  Background:
    Given the settlement's terms are in force

  Scenario: A child whose parent was reached but who has no registration counts as informed
    Given family A was identified 60 days ago
    And KIND attempted to contact family A 50 days ago with outcome "reached"
    Then the report counts 1 children informed
    And the report counts 0 children in_process

  Scenario: Failed attempts leave a child not reached
    Given family A was identified 60 days ago
    And KIND attempted to contact family A 50 days ago with outcome "no_answer"
    And WRC attempted to contact family A 40 days ago with outcome "invalid_number"
    Then the report counts 1 children not_reached

  Scenario: Unknown whereabouts count until a parent is reached
    Given family A was identified 60 days ago
    And WRC declared the whereabouts of family A unknown 30 days ago
    And the monitor notes the report
    When KIND attempted to contact family A 2 days ago with outcome "reached"
    Then the noted report still counts 1 children whereabouts_unknown
    And the report counts 1 children informed

  Scenario: A registration puts the family in process, and declining outranks it
    Given family A was identified 60 days ago
    And family B was identified 60 days ago
    And FRTF registered family A 20 days ago
    And FRTF registered family B 20 days ago
    And KIND recorded that family B chose "declined" 10 days ago
    Then the report counts 1 children in_process
    And the report counts 1 children declined
    And the report counts 2 families registered

  Scenario: The latest preference in occurred time decides, even when it is reported late
    Given family A was identified 60 days ago
    And KIND recorded that family A chose "declined" 10 days ago
    When KIND recorded that family A chose "reunify_in_us" 20 days ago
    Then the report counts 1 children declined

  Scenario: A reunification naming one child leaves its sibling still to reunify
    Given family A was identified 60 days ago with children C1, C2
    And FRTF reunified child C1 of family A 5 days ago
    Then the report counts 2 children identified
    And the report counts 1 children reunified
    And the report counts 1 children remaining
    And the report counts 0 families reunified

  Scenario: A reunification naming no child reunifies every child the case had then
    Given family A was identified 60 days ago with children C1, C2
    And FRTF reunified family A 5 days ago
    When ORR added child C3 born in 2016 to family A
    Then the report counts 2 children reunified
    And the report counts 1 children not_reached
    And the report counts 0 families reunified

  Scenario: Each reunification is credited to the organization that arranged the travel before it
    Given family A was identified 90 days ago
    And family B was identified 90 days ago
    And family C was identified 90 days ago
    And AOL arranged travel for family A 40 days ago
    And IOM arranged travel for family B 40 days ago
    And AOL arranged travel for family B 30 days ago
    And IOM arranged travel for family A 2 days ago
    And FRTF reunified family A 10 days ago
    And FRTF reunified family B 10 days ago
    And FRTF reunified family C 10 days ago
    Then the report counts 2 children reunified through AOL
    And the report counts 0 children reunified through IOM
    And the report counts 1 children reunified through none_recorded
    And the report counts 3 families reunified

  Scenario: A retracted identification takes the family out of every count
    Given family A was identified 60 days ago
    And family B was identified 60 days ago
    When FRTF retracted that event
    Then the report counts 1 children identified
    And the report counts 1 families identified
    And the report counts 1 retractions in its data quality

  Scenario: A duplicate merged into its family, and a case closed as excluded, are not counted
    Given family A was identified 60 days ago
    And family B was identified 50 days ago
    And family C was identified 50 days ago
    When FRTF merged family B into family A
    And FRTF closed the case of family C as "excluded"
    Then the report counts 1 families identified
    And the report counts 1 children identified
    And the report counts 1 merged_cases in its data quality

  Scenario: A corrected separation date moves the child to another month and age band
    Given family A was identified 60 days ago, separated on 2018-05-20 from HN
    When FRTF corrected the separation_date of that event to "2020-11-02"
    Then the report counts 0 children in the separation month "2018-05"
    And the report counts 1 children in the separation month "2020-11"
    And the report counts 1 children in the age band "5_to_17"
    And the report counts 1 corrections in its data quality

  Scenario: A border sector is one row of the report however it was typed
    Given family A was identified 60 days ago, separated in the border sector "El Paso"
    And family B was identified 60 days ago, separated in the border sector "el paso"
    And family C was identified 60 days ago, separated in the border sector "Tucsón"
    And family D was identified 60 days ago, separated in the border sector "TUCSON SECTOR"
    Then the report counts 2 children in the border sector "El Paso"
    And the report counts 2 children in the border sector "Tucson"

  Scenario: A child removed from the case is no longer counted
    Given family A was identified 60 days ago with children C1, C2
    When FRTF removed child C2 from family A
    Then the report counts 1 children identified

  Scenario: Families count under a service once it started
    Given family A was identified 90 days ago
    And family A arrived in the US 60 days ago with parole until 900 days from now
    And SENECA started housing services for family A 50 days ago
    And SENECA started behavioral_health services for family A 40 days ago
    Then the report counts 1 families receiving housing
    And the report counts 1 families receiving behavioral_health
    And the report counts 0 families receiving legal

  Scenario: Events recorded long after they happened are counted as late reports
    Given family A was identified 10 days ago
    And KIND attempted to contact family A 45 days ago with outcome "no_answer"
    Then the report counts 1 late_reports in its data quality

  Scenario: A report as of an earlier point never changes
    Given family A was identified 60 days ago
    And the monitor notes the report
    When family B was identified 50 days ago
    And FRTF retracted that event
    And KIND attempted to contact family A 1 days ago with outcome "reached"
    Then the noted report still counts 1 children not_reached
    And the report counts 1 children informed
