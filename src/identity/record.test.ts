import { describe, expect, it } from 'vitest';
import { houseAddress, toIdentityRecord } from './record.js';

describe('house part of an address', () => {
  it('drops the administrative divisions one sender writes and another does not', () => {
    expect(houseAddress('浙江省杭州市文一路12号3幢')).toBe(houseAddress('文一路 12号 3幢'));
    expect(houseAddress('北京市朝阳区建国路88号')).toBe('建国路88号');
    expect(toIdentityRecord({ resourceType: 'Patient', address: [{ text: '杭州市西湖区文一路12号' }] }).address).toBe('文一路12号');
  });

  it('keeps a compound named 一区 with its building, and names without a house number', () => {
    expect(houseAddress('杭州市西湖区翠苑一区12幢3单元')).toBe('翠苑一区12幢3单元');
    expect(houseAddress('翠苑一区12幢')).not.toBe(houseAddress('翠苑二区12幢'));
    expect(houseAddress('市心中路5号')).toBe('市心中路5号');
    expect(houseAddress('某街道某小区')).toBe('某街道某小区');
  });
});
