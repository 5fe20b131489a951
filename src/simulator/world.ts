/**
 * The simulated district at the start of the run: places, facilities, people, schools and care
 * homes, plus the calendar. Everything here is built once; the day loop changes only the
 * per-person state arrays.
 */
import { Clock, WorkCalendar } from './calendar.js';
import { Deaths } from './deaths.js';
import { buildAreas, buildFacilities, loadDistrictConfig } from './district.js';
import { NameBook } from './names.js';
import { buildPopulation } from './population.js';
import { assignCareHomes, assignSchools, primaryEntryYear, schoolYear } from './schools.js';
import type { World } from './types.js';
import { loadSchedule } from './vaccines.js';

export function buildWorld(seed: number, population: number, startDay: number, days: number): World & { deaths: Deaths } {
  const cfg = loadDistrictConfig();
  const names = new NameBook();
  const areas = buildAreas(cfg, population, seed);
  const built = buildPopulation(cfg, areas.communities, areas.streets, names, population, startDay, days, seed);
  const pop = built.pop;
  // Demand for facilities: residents and children by school stage in each street.
  const nStreets = areas.streets.length;
  const zero = (): number[] => new Array(nStreets).fill(0);
  const demand = {
    residentsByStreet: zero(),
    kindergartenByStreet: zero(),
    primaryByStreet: zero(),
    juniorByStreet: zero(),
    seniorByStreet: zero(),
    careHomeResidents: built.careHomeResidents.length,
  };
  const sy = schoolYear(startDay);
  for (let i = 0; i < pop.n; i++) {
    if (pop.household[i]! < 0) continue;
    const street = areas.communities[pop.community[i]!]!.street;
    demand.residentsByStreet[street]!++;
    const grade = sy - primaryEntryYear(pop.birthDay[i]!) + 1; // primary grade 1..6
    if (grade >= -2 && grade <= 0) demand.kindergartenByStreet[street]!++;
    else if (grade >= 1 && grade <= 6) demand.primaryByStreet[street]!++;
    else if (grade >= 7 && grade <= 9) demand.juniorByStreet[street]!++;
    else if (grade >= 10 && grade <= 12) demand.seniorByStreet[street]!++;
  }
  const district = buildFacilities(cfg, areas, demand, names, seed);
  const endDay = startDay + days;
  const schools = assignSchools(pop, district, startDay, endDay - 1, seed);
  const care = assignCareHomes(pop, district, built.careHomeResidents, startDay, seed);
  const cal = new WorkCalendar(startDay - 400, endDay + 400);
  const world: World & { deaths: Deaths } = {
    seed,
    startDay,
    endDay,
    days,
    cfg,
    names,
    district,
    pop,
    chronic: built.chronic,
    schools,
    care,
    cal,
    clock: new Clock(),
    schedule: loadSchedule(),
    deaths: null as unknown as Deaths,
  };
  world.deaths = new Deaths(world);
  return world;
}
