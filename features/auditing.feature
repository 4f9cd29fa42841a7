Feature: Auditors replay, export and verify the log without trusting the ledger
  An inspector general or an independent auditor reads every family's history, takes the whole
  log away as a bundle, and checks it offline: every event against its Merkle leaf, every signed
  checkpoint against the tree, each checkpoint against the next. Any change to what was recorded,
  in the bundle or in the database, is found and named by its position.

  Background:
    Given the Task Force has identified the separation of family FRTF-000777 with child C1
    And KIND has recorded two contact attempts and a preference for FRTF-000777

  Scenario: An auditor replays a family's history
    When the auditor replays the history of FRTF-000777
    Then the history lists 4 events in the order they were recorded, each with its receipt
    And every event of the history is proved to be in the latest signed checkpoint

  Scenario: An auditor sees which events were corrected and which were retracted, page by page
    Given KIND has corrected the outcome of the first contact attempt of FRTF-000777 to reached
    And KIND has retracted the second contact attempt of FRTF-000777 as posted to the wrong case
    When the auditor replays the history of FRTF-000777 two events at a time
    Then the history lists 6 events in the order they were recorded, each with its receipt
    And the first contact attempt still reads no_answer, marked corrected to reached by the correction's position
    And the second contact attempt is marked retracted by the retraction's position, as posted to the wrong case
    And the correction and the retraction stand in the history as they were posted

  Scenario: An auditor exports the log and verifies it offline
    When the auditor exports the log
    Then the bundle's own verify.py accepts it with the ledger's published key pinned
    And ledger verify accepts the bundle
    And the bundle holds every event of FRTF-000777 with the receipt the ledger gave for it

  Scenario: Changing an exported bundle is detected and named
    Given the auditor has exported the log
    When someone changes the outcome of the first contact attempt of FRTF-000777 in the bundle
    Then the bundle's verify.py rejects it naming the position of that contact attempt
    And ledger verify rejects the bundle naming the same position

  Scenario: Changing the database behind the ledger's back is detected and named
    Given the latest checkpoint has been signed
    When someone changes the outcome of the first contact attempt of FRTF-000777 in the database
    Then the ledger's verification names the position of that contact attempt

  Scenario: An auditor checks that today's checkpoint extends the one saved last month
    Given the auditor has saved the signed checkpoint
    And KIND has recorded two contact attempts and a preference for FRTF-000777
    When the auditor asks for a proof that today's checkpoint extends the saved one
    Then the proof verifies offline against the two signed roots

  Scenario: Forgetting a family makes its personal data unreadable and leaves every proof whole
    Given the auditor has saved the signed checkpoint
    When the personal data of FRTF-000777 is forgotten at the family's request
    Then the history of FRTF-000777 shows its parent's name and the numbers tried as redacted
    And every event of the history is proved to be in the latest signed checkpoint
    And today's checkpoint is proved to extend the saved one
    And the access log shows who read the history and who forgot the family
