/** Errors that carry an HTTP status and become a FHIR OperationOutcome at the edge. */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class HttpError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly issueCode: IssueCode = 'processing',
    public readonly issues: OperationOutcomeIssue[] = [],
  ) {
    super(message);
    this.name = 'HttpError';
  }

  /** Response headers that go with this error (e.g. Retry-After on 429 and 503). */
  headers: Record<string, string> | undefined;

  toOperationOutcome(): OperationOutcome {
    return {
      resourceType: 'OperationOutcome',
      issue: this.issues.length
        ? this.issues.map((i) => ({ ...i, diagnostics: i.diagnostics ?? i.details?.text ?? this.message }))
        : [{ severity: 'error', code: this.issueCode, diagnostics: this.message, details: { text: this.message } }],
    };
  }
}

export const badRequest = (msg: string, issues: OperationOutcomeIssue[] = []) => new HttpError(400, msg, 'invalid', issues);
export const notFound = (msg: string) => new HttpError(404, msg, 'not-found');
export const gone = (msg: string) => new HttpError(410, msg, 'deleted');
export const conflict = (msg: string) => new HttpError(409, msg, 'conflict');
export const preconditionFailed = (msg: string) => new HttpError(412, msg, 'conflict');
export const unauthorized = (msg = 'Authentication required: send Authorization: Bearer <token> (POST /auth/login)') =>
  new HttpError(401, msg, 'login');
export const forbidden = (msg: string) => new HttpError(403, msg, 'forbidden');
export const unprocessable = (msg: string, issues: OperationOutcomeIssue[] = []) => new HttpError(422, msg, 'processing', issues);

export function outcome(severity: 'information' | 'warning' | 'error', code: IssueCode, text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics: text, details: { text } }] };
}
