import { describe, expect, it } from 'vitest';
import {
  frameworksEqual,
  isUnsupported,
  longName,
  parseFramework,
  shortFolderName,
  tryParseFramework,
  tryShortFolderName,
} from '../../../src/nuget/framework.js';

const short = (text: string): string => shortFolderName(parseFramework(text));
const long = (text: string): string => longName(parseFramework(text));

describe('parseFramework: lib/ folder names and nuspec targetFramework values', () => {
  it.each([
    ['net48', 'net48', '.NETFramework,Version=v4.8'],
    ['net8.0', 'net8.0', '.NETCoreApp,Version=v8.0'],
    ['net8.0-windows7.0', 'net8.0-windows7.0', '.NETCoreApp,Version=v8.0'],
    ['netstandard2.0', 'netstandard2.0', '.NETStandard,Version=v2.0'],
    ['netcoreapp3.1', 'netcoreapp3.1', '.NETCoreApp,Version=v3.1'],
    ['.NETFramework4.5', 'net45', '.NETFramework,Version=v4.5'],
    ['.NETFramework,Version=v4.5', 'net45', '.NETFramework,Version=v4.5'],
    ['net40-client', 'net40-client', '.NETFramework,Version=v4.0,Profile=Client'],
    ['portable-net45+win8', 'portable-net45+win8', '.NETPortable,Version=v0.0,Profile=Profile7'],
    ['portable-Profile259', 'portable-net45+win8+wp8+wpa81', '.NETPortable,Version=v0.0,Profile=Profile259'],
    ['uap10.0', 'uap10.0', 'UAP,Version=v10.0'],
    ['win8', 'win8', 'Windows,Version=v8.0'],
    ['sl5', 'sl5', 'Silverlight,Version=v5.0'],
    ['wp8', 'wp8', 'WindowsPhone,Version=v8.0'],
    ['monoandroid', 'monoandroid', 'MonoAndroid,Version=v0.0'],
    ['xamarinios', 'xamarinios', 'Xamarin.iOS,Version=v0.0'],
    ['tizen', 'tizen', 'Tizen,Version=v0.0'],
    ['native', 'native', 'native,Version=v0.0'],
    ['any', 'any', 'Any,Version=v0.0'],
  ])('%j has short name %j and long name %j', (text, shortName, longForm) => {
    expect(short(text)).toBe(shortName);
    expect(long(text)).toBe(longForm);
  });

  it('net5.0 and later are .NETCoreApp, written net5.0 (not netcoreapp5.0)', () => {
    const f = parseFramework('netcoreapp5.0');
    expect(f.framework).toBe('.NETCoreApp');
    expect(shortFolderName(f)).toBe('net5.0');
  });

  it('the short and long forms of one framework are equal', () => {
    expect(frameworksEqual(parseFramework('net45'), parseFramework('.NETFramework,Version=v4.5'))).toBe(true);
    expect(frameworksEqual(parseFramework('NET45'), parseFramework('net4.5'))).toBe(true);
  });

  it('the platform version of net8.0-windows10.0.19041.0 loses only its trailing zero', () => {
    expect(short('net8.0-windows10.0.19041.0')).toBe('net8.0-windows10.0.19041');
  });

  it('folder names that are not frameworks are Unsupported, not errors', () => {
    for (const text of ['lib', 'foo', 'net45 ', '', 'net8.0-windows-7.0']) {
      expect(isUnsupported(parseFramework(text)), text).toBe(true);
    }
  });

  it('where NuGet throws, tryParseFramework says null and parseFramework says Unsupported', () => {
    expect(tryParseFramework('portable-net40-client')).toBeNull();
    expect(tryParseFramework(',')).toBeNull();
    expect(tryParseFramework('.NETFramework,Version=vX')).toBeNull();
    expect(isUnsupported(parseFramework(','))).toBe(true);
  });

  it('a portable profile number NuGet does not know has no short name', () => {
    const f = parseFramework('portable-Profile999');
    expect(tryShortFolderName(f)).toBeNull();
    expect(() => shortFolderName(f)).toThrow();
  });

  it('portable members are written sorted, whatever order the folder used', () => {
    expect(short('portable-wpa81+wp8+win8+net45')).toBe('portable-net45+win8+wp8+wpa81');
  });
});
