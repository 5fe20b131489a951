import { describe, expect, it } from 'vitest';
import { educationItemsFor, loadEducationItems } from './education.js';

const items = loadEducationItems();
const ids = (f: Parameters<typeof educationItemsFor>[0]) => educationItemsFor(f, items).map((i) => i.id);

describe('educationItemsFor (worked examples)', () => {
  it('a 68-year-old hypertensive on metformin for diabetes', () => {
    expect(ids({ age: 68, conditions: ['I10', 'E11.9'], medicationsAtc: ['A10BA02'], risks: [] })).toEqual([
      'htn-salt',
      'htn-selfmonitor',
      'dm-diet',
      'dm-hypo',
      'dm-foot',
      'elderly-falls',
    ]);
  });
  it('a 40-year-old smoker with a high reading', () => {
    expect(ids({ age: 40, conditions: [], medicationsAtc: [], risks: ['smoker', 'elevated-bp'] })).toEqual(['smoking', 'bp-screen']);
  });
  it('a 3-year-old', () => {
    expect(ids({ age: 3, conditions: [], medicationsAtc: [], risks: [] })).toEqual(['child-vaccines']);
  });
  it('diabetes without glucose-lowering drugs gets no hypoglycaemia sheet', () => {
    expect(ids({ age: 45, conditions: ['E11'], medicationsAtc: [], risks: [] })).toEqual(['dm-diet']);
  });
});
