/** The HL7 dead-letter queue: a rejected message is corrected on screen and reprocessed. */
import { expect, it } from 'vitest';
import { describeInBrowser } from './fixture.js';
import { BAD_BIRTH_DATE, GOOD_BIRTH_DATE, REJECTED_MESSAGE_ID, seedRejectedMessage } from './intake.seed.js';
import { DeadLettersPage } from './pages/dead-letters.page.js';

describeInBrowser('correcting a rejected HL7 message', { seed: seedRejectedMessage }, (fx) => {
  it('corrects the birth date and reprocesses the message; the queue is empty', async () => {
    const { page, errors } = await fx().signIn();
    const deadLetters = new DeadLettersPage(page, fx().url);
    await deadLetters.open(REJECTED_MESSAGE_ID);
    await deadLetters.screenshot('hl7-dead-letters.png');
    const text = await deadLetters.editFirst();
    expect(text).toContain(BAD_BIRTH_DATE);
    await deadLetters.replaceText(text.replace(BAD_BIRTH_DATE, GOOD_BIRTH_DATE));
    await deadLetters.screenshot('hl7-dead-letter-fix.png');
    await deadLetters.saveAndReprocess();
    expect(errors).toEqual([]);
  });
});
