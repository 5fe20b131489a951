/** Reading FHIR search Bundles: the resources of one type, and a paging link. */
import type { Bundle, ExtractResource, Resource, ResourceType } from '@medplum/fhirtypes';

/** The resources of one type in a Bundle, in entry order (entries without a resource skipped). */
export function bundleResources<K extends ResourceType>(bundle: Bundle | undefined, type: K): ExtractResource<K>[] {
  return (bundle?.entry ?? [])
    .map((entry) => entry.resource)
    .filter((resource): resource is ExtractResource<K> => !!resource && resource.resourceType === type);
}

/** The URL of a Bundle link ('next', 'previous', 'self'), if the server sent one. */
export function bundleLink(bundle: Bundle<Resource> | undefined, relation: string): string | undefined {
  return bundle?.link?.find((link) => link.relation === relation)?.url;
}
