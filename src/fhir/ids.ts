/**
 * Ids for new resources: UUID version 7 (RFC 9562 §5.7), a millisecond timestamp followed by
 * random bits, from the `uuid` package. Every index keyed by resource id (each r_<type> primary
 * key, history's (type, id, version) index, string_search, mpi_record, the derived tables) then
 * takes new rows at its right edge instead of on a random page: fewer pages read and dirtied per
 * insert, and fewer full-page images in the WAL after each checkpoint. An id carries its creation
 * time to the millisecond (as version 1's meta.lastUpdated does): a de-identified export must
 * replace ids, not only names. Nothing may read meaning into an id otherwise.
 */
import { v7 } from 'uuid';

export const newResourceId = (): string => v7();
