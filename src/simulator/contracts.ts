/**
 * Family-doctor contracts (家庭医生签约服务): a resident signs with the team of their community for
 * a year and mostly renews on the anniversary. Key populations sign far more often than others
 * (CONTRACT_UPTAKE in targets.ts), so coverage is about 35–75 % for them and lower overall.
 * Each contract is a FHIR EpisodeOfCare (type episode-type#family-doctor-contract, the team as
 * CareTeam, the service package as an extension), sent by the CHC like its other records. The
 * contract in force at the start comes from the registry's history; renewals and newborns'
 * contracts are sent on the day they are signed. Pure function of the seed and the person.
 */
import { FLAG } from './population.js';
import { hashFloat } from './rng.js';
import type { Sink } from './sink.js';
import { CONTRACT_UPTAKE } from './targets.js';
import type { World } from './types.js';
import { CONTRACT_TYPE_SYSTEM, SERVICE_PACKAGE_EXTENSION, SERVICE_PACKAGE_SYSTEM } from './uris.js';

const PACKAGE_NAME: Record<string, string> = {
  basic: '基础包',
  elderly: '老年人健康管理包',
  chronic: '慢病管理包',
  child: '0–6岁儿童健康管理包',
};

/** Residents between two waits for the output while writing history (a power of two minus one). */
const PAUSE_EVERY = 8191;

export class Contracts {
  /** Contracts signed per day of the run: person * 64 + term number. */
  private readonly byDay = new Map<number, number[]>();

  constructor(
    private readonly w: World,
    private readonly sink: Sink,
  ) {}

  /** The service package and the chance of signing, from the key populations on a day. */
  private offer(person: number, day: number): { pkg: string; p: number } {
    const { pop } = this.w;
    const age = pop.age(person, day);
    const u = CONTRACT_UPTAKE;
    if (pop.hasFlag(person, FLAG.MANAGED)) return { pkg: 'chronic', p: u.chronic };
    if (age >= 65) return { pkg: 'elderly', p: pop.careHome[person]! >= 0 ? u.careHome : u.elderly };
    if (age <= 6) return { pkg: 'child', p: u.children };
    return { pkg: 'basic', p: u.others };
  }

  /** Writes the contracts in force at the start and queues the renewals of the run. */
  async start(pause: () => Promise<void>): Promise<void> {
    const { pop, startDay, seed } = this.w;
    for (let i = 0; i < pop.n; i++) {
      if ((i & PAUSE_EVERY) === PAUSE_EVERY) await pause();
      if (hashFloat(seed, i, 901) >= this.offer(i, startDay).p) continue;
      // Anniversary: the term in force at the start began within the year before it.
      const begin = startDay - 365 + Math.floor(hashFloat(seed, i, 902) * 365);
      this.emit(i, begin, 0);
      this.queue(i, begin + 365, 1);
    }
  }

  /** A child born during the run: signed with the family's team within two months, or not. */
  newborn(person: number, day: number): void {
    const { seed } = this.w;
    if (hashFloat(seed, person, 901) >= CONTRACT_UPTAKE.children) return;
    this.queue(person, day + 14 + Math.floor(hashFloat(seed, person, 902) * 45), 0);
  }

  private queue(person: number, day: number, term: number): void {
    if (day >= this.w.endDay) return;
    const list = this.byDay.get(day);
    if (list) list.push(person * 64 + term);
    else this.byDay.set(day, [person * 64 + term]);
  }

  day(day: number): void {
    const list = this.byDay.get(day);
    if (!list) return;
    this.byDay.delete(day);
    for (const packed of list) {
      const person = Math.floor(packed / 64);
      const term = packed % 64;
      // The dead sign no more (nor renew).
      if (!this.w.deaths.alive(person, day)) continue;
      // Most renew; a few let the contract lapse (moved away, unhappy, no longer interested).
      if (term > 0 && hashFloat(this.w.seed, person, 903 + term) >= CONTRACT_UPTAKE.renewal) continue;
      this.emit(person, day, term);
      this.queue(person, day + 365, term + 1);
    }
  }

  private emit(person: number, begin: number, term: number): void {
    const { pop, district, clock, endDay } = this.w;
    const team = district.teams[district.teamOfCommunity[pop.community[person]!]!]!;
    const org = district.facilities[team.facility]!;
    const { pkg } = this.offer(person, begin);
    const end = begin + 364;
    const id = `eoc-${pop.patientId(person).slice(4)}-${term}`;
    const json = {
      resourceType: 'EpisodeOfCare',
      id,
      extension: [
        { url: SERVICE_PACKAGE_EXTENSION, valueCoding: { system: SERVICE_PACKAGE_SYSTEM, code: pkg, display: PACKAGE_NAME[pkg] } },
      ],
      // Terms that ended before the last day of the run are finished.
      status: end < endDay - 1 ? 'finished' : 'active',
      type: [{ coding: [{ system: CONTRACT_TYPE_SYSTEM, code: 'family-doctor-contract', display: '家庭医生签约' }] }],
      patient: { reference: `Patient/${pop.patientId(person)}` },
      managingOrganization: { reference: `Organization/${org.id}` },
      period: { start: clock.iso(begin), end: clock.iso(end) },
      careManager: { reference: `Practitioner/${district.practitioners[team.members[0]!]!.id}` },
      team: [{ reference: `CareTeam/${team.id}` }],
    };
    this.sink.fhir('EpisodeOfCare', id, JSON.stringify(json));
  }
}
