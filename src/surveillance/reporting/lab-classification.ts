/**
 * A verified laboratory result moves its report card's case classification (issue #20 item 4):
 * a draft or returned card is edited as its doctor would; a submitted or reviewed card gets a
 * 订正 by the CDC (reviewer), with the result as its reason, so the prior classification stays
 * visible in the card's history and counts move with it. A card already so classified, or in a
 * state that takes no change (superseded, deleted), is left as it is and said so.
 */
import type { ReportCard } from './card.js';
import { correctCard, getCard, updateDraft, type ReportingDeps, type WriteAudit } from './store.js';

export interface LabClassification {
  cardId: string;
  /** The card's words, e.g. 确诊病例 */
  classification: string;
  /** Why: the specimen, the test and its value. */
  reason: string;
}

export async function classifyCaseFromLab(
  deps: ReportingDeps,
  req: LabClassification,
  actor: string,
  audit?: WriteAudit,
): Promise<{ applied: boolean; detail: string }> {
  const card = await getCard(deps.db, req.cardId);
  if (card.card.caseClassification === req.classification)
    return { applied: false, detail: `report card ${req.cardId} is already ${req.classification}` };
  const patch = { caseClassification: req.classification } as Partial<ReportCard>;
  if (card.status === 'draft' || card.status === 'returned') {
    await updateDraft(deps, req.cardId, patch, card.version, actor, audit);
    return { applied: true, detail: `report card ${req.cardId} (${card.status}) → ${req.classification}: ${req.reason}` };
  }
  if (card.status === 'submitted' || card.status === 'reviewed') {
    await correctCard(
      deps,
      req.cardId,
      { version: card.version, corrections: patch, reason: `实验室结果：${req.reason}` },
      actor,
      { reviewer: true },
      audit,
    );
    return { applied: true, detail: `report card ${req.cardId} corrected (订正) → ${req.classification}: ${req.reason}` };
  }
  return { applied: false, detail: `report card ${req.cardId} is ${card.status}: its classification is not changed` };
}
