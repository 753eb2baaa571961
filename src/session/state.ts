/** The four session states of RFC 9051 §3 (Figure 1). */
export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export const ANY: readonly SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
export const NOT_AUTHENTICATED: readonly SessionState[] = ['not-authenticated'];
export const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
export const SELECTED: readonly SessionState[] = ['selected'];
