import { DataExportSection } from './DataExportSection';
import { DeleteAccountSection } from './DeleteAccountSection';

/** Settings → Your data. */
export function DataRightsSection() {
  return (
    <>
      <DataExportSection />
      <DeleteAccountSection />
    </>
  );
}
