/** URIs of the registry's identifiers and extensions (a published URI is never changed). */
import { YIFANG_BASE } from '../shared/uris.js';

/** Identifier system of place codes (schools, pharmacies, care homes, sentinel sites). */
export const PLACE_CODE_SYSTEM = `${YIFANG_BASE}/sid/place`;
/** Identifier system of the 6-digit GB/T 2260 county code of an area. */
export const GB2260_SYSTEM = `${YIFANG_BASE}/sid/gb2260`;
/** FHIR core extension: a Location's boundary as an Attachment of application/geo+json. */
export const BOUNDARY_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/location-boundary-geojson';
/** FHIR core extension: latitude and longitude of an Address. */
export const GEOLOCATION_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/geolocation';
/** A school's grades: repeated, with sub-extensions grade (valueString) and classes (valueInteger). */
export const SCHOOL_GRADES_EXTENSION = `${YIFANG_BASE}/StructureDefinition/school-grades`;
