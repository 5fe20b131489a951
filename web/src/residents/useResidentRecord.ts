import { useCallback, useEffect, useState } from 'react';
import { fetchPatientEverything } from '../api/patient.resource.js';
import { ApiError, isAbort } from '../api/http.js';
import { buildRecordModel, type RecordModel } from './record.model.js';

export interface ResidentRecordState {
  record?: RecordModel;
  loading: boolean;
  error?: string;
  notFound: boolean;
  reload(): void;
}

/** Loads a resident's whole compartment ($everything) and shapes it for the record page. */
export function useResidentRecord(id: string): ResidentRecordState {
  const [record, setRecord] = useState<RecordModel>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [notFound, setNotFound] = useState(false);
  const [reloadCount, setReloadCount] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    setNotFound(false);
    fetchPatientEverything(id, controller.signal)
      .then((resources) => {
        const model = buildRecordModel(resources);
        setRecord(model);
        setNotFound(!model.patient);
        setLoading(false);
      })
      .catch((err: unknown) => {
        if (isAbort(err)) return;
        setRecord(undefined);
        if (err instanceof ApiError && (err.status === 404 || err.status === 410)) setNotFound(true);
        else setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      });
    return () => controller.abort();
  }, [id, reloadCount]);

  const reload = useCallback(() => setReloadCount((n) => n + 1), []);
  return { record, loading, error, notFound, reload };
}
