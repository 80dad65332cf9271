/** The signature file a model folder carries by default (the reference tool's name). */
export const SIGNATURE_FILE = "model.sig";
