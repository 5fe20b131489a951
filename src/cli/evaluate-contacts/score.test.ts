/** Recall and precision of contact candidates, per kind, on a hand-made example. */
import { describe, expect, it } from 'vitest';
import { formatContactTable, scoreContacts } from './score.js';

describe('scoreContacts', () => {
  it('counts people per case: recall by true kind, precision by candidate kind, untraced candidates as wrong', () => {
    const s = scoreContacts([
      {
        truth: {
          patientId: 'pat-1',
          contacts: [
            { patientId: 'pat-2', kind: 'household' },
            { patientId: 'pat-3', kind: 'household' },
            { patientId: 'pat-4', kind: 'school-class' },
            { patientId: 'pat-5', kind: 'school-class' },
            { patientId: 'pat-6', kind: 'ward' },
          ],
        },
        found: {
          candidates: [
            { person: 'pat-2', kind: 'household' },
            // The same person from the identity module's address household: one candidate.
            { person: 'pat-2', kind: 'household' },
            { person: 'pat-3', kind: 'household' },
            { person: 'pat-4', kind: 'school-class' },
            { person: 'pat-9', kind: 'school-class' },
            // A true ward contact proposed as a department co-stay still counts as found.
            { person: 'pat-6', kind: 'department' },
            { person: null, kind: 'ward' },
            // The case itself is never a contact.
            { person: 'pat-1', kind: 'ward' },
          ],
        },
      },
      {
        truth: { patientId: 'pat-2', contacts: [{ patientId: 'pat-1', kind: 'household' }] },
        found: { candidates: [] },
      },
    ]);
    const row = (k: string) => s.rows.find((r) => r.kind === k)!;
    expect(s.cases).toBe(2);
    expect(row('household')).toMatchObject({ truth: 3, found: 2, candidates: 2, correct: 2, precision: 1 });
    expect(row('household').recall).toBeCloseTo(2 / 3);
    expect(row('school-class')).toMatchObject({ truth: 2, found: 1, recall: 0.5, candidates: 2, correct: 1, precision: 0.5 });
    expect(row('ward')).toMatchObject({ truth: 1, found: 1, recall: 1, candidates: 1, correct: 0, precision: 0 });
    expect(row('department')).toMatchObject({ truth: 0, recall: null, candidates: 1, correct: 1, precision: 1 });
    expect(row('room')).toMatchObject({ truth: 0, candidates: 0, recall: null, precision: null });
    // Overall: 6 true contacts, 4 found; 6 candidates (5 people + 1 untraced), 4 correct.
    expect(s.overall).toMatchObject({ truth: 6, found: 4, candidates: 6, correct: 4 });
    const table = formatContactTable(s);
    expect(table).toMatch(/^kind +true contacts +found +recall +candidates +correct +precision$/m);
    expect(table).toMatch(/^room +0 +0 +— +0 +0 +—$/m);
    expect(table).toMatch(/^overall +6 +4 +0\.667 +6 +4 +0\.667$/m);
  });
});
