/** The Data step's screen: the project's files, as the API shows them. */
import { toFileJson } from "./schemas.ts";
import type { DocumentService } from "./service.ts";

export const dataStepLoader = (documents: DocumentService) => (projectId: string) => ({ files: documents.list(projectId).map(toFileJson) });
