Feature: Agencies post what they did, and the ledger keeps it exactly once
  Every action taken on a family is one immutable event, posted by the organization that took it.
  A retry must never double a fact, a refused batch must leave no trace, and a mistake is fixed
  by a correcting event, never by editing the record.

  Background:
    Given the Task Force has identified the separation of family FRTF-000123 with child C1

  Scenario: An NGO records a contact attempt and gets a receipt
    When KIND posts a contact attempt for FRTF-000123 with outcome "reached"
    Then the ledger answers 201
    And the receipt names FRTF-000123 at version 2
    And child C1 of FRTF-000123 counts as "informed"

  Scenario: A retry after a lost response appends nothing
    Given KIND has posted a contact attempt for FRTF-000123
    When KIND posts the same envelope again
    Then the ledger answers 200
    And the receipt is the original one
    And the log has not grown

  Scenario: Reusing an event id for different facts is refused
    Given KIND has posted a contact attempt for FRTF-000123
    When KIND posts the same event id with outcome "refused"
    Then the ledger answers 409 naming the field "event_id" of event 0
    And the log has not grown

  Scenario: A border sector outside the Border Patrol's list is refused, and the list is given
    When FRTF identifies family FRTF-000124 as separated in the border sector "Atlantis"
    Then the ledger answers 422 naming the field "data.border_sector" of event 0
    And the refusal lists "El Paso", "Rio Grande Valley" and "San Ysidro"
    And the log has not grown

  Scenario: An organization posting another's event type is refused
    When KIND posts a parole decision for FRTF-000123
    Then the ledger answers 403 naming the field "type" of event 0
    And the refusal says what KIND may post
    And the log has not grown

  Scenario: A type the organization may not post is refused before its fields are read
    When FRTF posts a separation of FRTF-000124 and an empty contact attempt in one batch
    Then the ledger answers 403 naming the field "type" of event 1
    And the refusal says what FRTF may post
    And the log has not grown

  Scenario: A dry run answers as the post would, and records nothing
    When KIND tries a contact attempt for FRTF-000123 as a dry run
    Then the ledger answers 201
    And the receipt names FRTF-000123 at version 2, without a log position
    And the log has not grown

  Scenario: Travel arranged before any parole decision is accepted, with a warning the report counts
    When IOM posts a travel arrangement for FRTF-000123
    Then the ledger answers 201
    And the receipt warns "travel_before_parole_decision"
    And the compliance report counts 1 event under "travel_before_parole_decision" in its data quality

  Scenario: A batch with one bad event appends none of it
    When KIND posts 3 contact attempts for FRTF-000123 in one batch, the last with country "XX"
    Then the ledger answers 422 naming the field "data.country" of event 2
    And the log has not grown

  Scenario: A stale expected version is refused
    Given KIND has posted a contact attempt for FRTF-000123
    When WRC posts a contact attempt for FRTF-000123 expecting version 1
    Then the ledger answers 409 naming the field "expected_version" of event 0
    And the log has not grown

  Scenario: Nothing may be posted about a family not yet identified
    When KIND posts a contact attempt for FRTF-999999 with outcome "reached"
    Then the ledger answers 409 naming the field "case_id" of event 0
    And the log has not grown

  Scenario: Only the organization that posted an entry may correct it
    Given KIND has posted a contact attempt for FRTF-000123
    When WRC posts a correction of that contact attempt to outcome "reached"
    Then the ledger answers 403 naming the field "data.event_id" of event 0
    When KIND posts a correction of that contact attempt to outcome "reached"
    Then the ledger answers 201
    And child C1 of FRTF-000123 counts as "informed"
    And the history of FRTF-000123 still shows the original outcome "no_answer"

  Scenario: A revoked token is refused at once
    Given KIND's token has been revoked
    When KIND posts a contact attempt for FRTF-000123 with outcome "reached"
    Then the ledger answers 401
    And the log has not grown
