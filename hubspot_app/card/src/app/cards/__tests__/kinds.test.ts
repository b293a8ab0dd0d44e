import { describe, expect, it } from 'vitest';

import { getMessages, kindLabel } from '../i18n';

describe('kind labels', () => {
  it('names an invoice attached by the history import, in French and English', () => {
    expect(kindLabel(getMessages('fr'), 'imported', null)).toBe('Facture existante');
    expect(kindLabel(getMessages('en'), 'imported', null)).toBe('Existing invoice');
    expect(kindLabel(getMessages('fr'), 'deposit', '50')).toBe('Acompte 50 %');
  });
});
