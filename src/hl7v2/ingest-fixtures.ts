/** Small HL7 v2 messages for ingest tests and the MLLP benchmark. */
let seq = 0;
/** A small ADT^A04 (registration) from facility F with control id `id`. */
export function adt(
  id: string,
  opts: {
    facility?: string;
    mrn?: string;
    name?: string;
    birth?: string;
    type?: string;
    sep?: string;
    phone?: string;
    street?: string;
  } = {},
): string {
  const f = opts.facility ?? 'TESTHOSP';
  const mrn = opts.mrn ?? `MRN${++seq}`;
  return [
    `MSH|^~\\&|HIS|${f}|YIFANG|339902|20260101095100+0800||${opts.type ?? 'ADT^A04^ADT_A01'}|${id}|P|2.5|||||CHN|UNICODE UTF-8`,
    'EVN|A04|20260101095100+0800',
    `PID|1||${mrn}^^^${f}^MR||${opts.name ?? '张^伟'}^^^^^L||${opts.birth ?? '19800115'}|M|||${opts.street ?? '湖滨路1号'}^^安澜市^浙江省^319900^CHN^H||^PRN^CP^^^^^^^^^${opts.phone ?? '13800000000'}`,
    `PV1|1|O|general^^^${f}||||||||||||||||||V${id}|||||||||||||||||||||||||20260101095100+0800`,
  ].join('\r');
}
