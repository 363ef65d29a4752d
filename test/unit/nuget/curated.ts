/** Hand-picked corner cases for the differential test (the generated inputs cover the rest). */

export const CURATED_VERSIONS: readonly string[] = [
  '1.0.0', '1.0', '1', '1.0.0.0', '1.0.0.1', '01.02.03', '1.0.0-beta', '1.0.0-beta.1', '1.0.0-beta.2', '1.0.0-beta.9',
  '1.0.0-beta.10', '1.0.0-Beta', '1.0.0-BETA', '1.0.0-alpha', '1.0.0-rc.1', '1.0.0-rc1', '1.0.0-0', '1.0.0-1',
  '1.0.0-01', '1.0.0-0a', '1.0.0--', '1.0.0--0', '1.0.0--1', '1.0.0-a-b', '1.0.0+sha.abc', '1.0.0+001', '1.0.0+-',
  '1.0.0-beta+sha', '1.0.0-beta.1+a.b.c', '1.0.0.0-beta', '1.0.0.5-beta', '2147483647.0.0', '2147483648.0.0',
  '1.2147483647.0', '0.0.0', '0.0', '0', '1.0.0-2147483647', '1.0.0-2147483648', '1.0.0-beta.2147483648',
  // rejected: empty parts, too many parts, bad labels
  '', ' ', '.', '1.', '.1', '1..0', '1.0.0.0.0', '1.0.0-', '1.0.0+', '1.0.0-+', '1.0.0-beta+', '1.0.0-beta..1',
  '1.0.0-beta.', '1.0.0-.beta', '1.0.0+a..b', '1.0.0+a+b', '1.0.0-be_ta', '1.0.0-beta+sh_a', '1.0.0-ä', '-1.0',
  '1.-1', '+1.0', 'a', 'v1.0', '1.0.0 beta', '1.0.0-*', '1.*', '1.0.0-beta-', '1.0.0-beta.01',
  // whitespace and other characters .NET treats specially
  ' 1.0 ', '\t1.0\n', '1. 0', '1 .0', '1.0 .0', ' 1 . 2 . 3 ', '1.0\u00a0', '\u00a01.0', '\u00851.0', '\ufeff1.0',
  '\u20031.0\u3000', '1.\u00a00', '1.\t0', '1.0\u0000', '1.٣', '１.0', '1 -beta', '1 .0-beta', '1.0 -beta',
  '1.0- beta', '1.0-beta ', '1.0+ a', '0001.0002.0003.0004', '1.0.0.0.', '1.00000000000000000000000001',
  '1.0.0-0000', '1.0.0+0000', '1.0.0-beta.0', '1.0.0-beta.00', '1.0.0-beta.0a', '1.0.0-BETA.Alpha.1',
  '1.0.0-a.b.c.d.e.f', '1.0.0-x.7.z.92', '1.0.0+build.1-aef.1-its-okay', '1.0.0-rc.1+build.1', '99999999999',
];

export const CURATED_RANGES: readonly string[] = [
  '1.0', '1.0.0', '[1.0]', '[1.0.0]', '(1.0]', '[1.0)', '(1.0)', '[1.0,2.0]', '[1.0,2.0)', '(1.0,2.0)', '(1.0,2.0]',
  '[1.0, 2.0)', '[ 1.0 , 2.0 ]', '(,1.0]', '(,1.0)', '[,1.0]', '(1.0,)', '[1.0,)', '[1.0, )', '(1.0, ]', '(,)', '[,]',
  '[ , ]', '(, )', '[1.0,2.0,3.0]', '[2.0,1.0]', '[1.0,1.0]', '(1.0,1.0)', '[1.0,1.0)', '(1.0,1.0]', '[1.0.0,1.0]',
  '[1.0.0-beta,1.0.0]', '[1.0.0-beta]', '1.0.0-beta', '1.0.0-beta.1', '[1.0.0-beta.1, 2.0.0+meta]', '[1.0+a, 1.0+b]',
  '*', '*-*', ' * ', '[*]', '[*, 2.0]', '1.*', '1.0.*', '1.0.0.*', '1.*-*', '1.0.*-*', '1.0.0-*', '1.0.0-beta*',
  '1.0.0-beta.*', '1.0.0-beta-*', '1.0.0-rc-*', '1.*-beta*', '*-rc*', '*-rc.*', '1*', '1.2*', '10.*', '[1.*, 2.0)',
  '(1.*, 2.0)', '[1.*]', '[1.0.*, 1.0.5]', '[1.*,1.0)', '1.*.0', '1.**', '1.0.0+*', '1.0-*+x', '*-', '-*', '**',
  '1.0.0-*-*', '1.0.*-*.*', '[1.0.0-*, )', '[1.0.0-beta.1-*, )', '1.0.0.0.*-*', '01.*', '1.0.0-0*', '1.0.0-01*',
  '', ' ', '[', ']', '()', '[]', '(,]', '[)', '1.0,2.0', '[1.0', '1.0]', '{1.0}', '[1.0 2.0]', '[1.0;2.0]', 'abc',
  '[1.0-,2.0]', '\u00a0[1.0,2.0]\u00a0', '\u0085[1.0]', '[\u00a01.0,\u00a02.0]', '[1.0,\u0085]', '[1.0,\u00a0]',
  '[1.0.0--0,1.0.0-0]', '[1.0.0-0,1.0.0--0]', '[1.0.0-A,1.0.0-a]', '[1.0.0-a, 1.0.0-A]',
];

export const CURATED_FRAMEWORKS: readonly string[] = [
  'net48', 'net8.0', 'net8.0-windows7.0', 'netstandard2.0', '.NETFramework4.5', '.NETFramework,Version=v4.5',
  'netcoreapp3.1', 'portable-net45+win8', 'portable-Profile259', 'native', 'any', 'unsupported', 'win8', 'uap10.0',
  'monoandroid', 'xamarinios', 'tizen', 'sl5', 'wp8',
  // common-framework shortcuts and their neighbours
  'dotnet', 'DOTNET', 'dotnet5.0', 'dotnet50', 'dotnet51', 'dotnet5.6', 'dnxcore', 'dnxcore50', 'dnx451', 'dnx',
  'netstandardapp1.5', 'netcoreapp1.0', 'netcoreapp10', 'netcoreapp5.0', 'net5.0', 'net50', 'net5', 'net10', 'net100',
  'net11.0', 'net4.8.1', 'net481', 'net4', 'net40', 'net4.0', 'net403', 'net20', 'net2', 'net1', 'net11',
  // deprecated bare numbers, and near misses
  '45', '4.5', '40', '4.0', '4', '35', '3.5', '20', '2', '2.0', '46', '4.6', '1',
  // platforms and profiles
  'net8.0-windows', 'net8.0-windows10.0.19041.0', 'net8.0-windows10.0.19041', 'net8.0-windows7', 'net8.0-Windows7.0',
  'net8.0-windows-7.0', 'net8.0-windows-0.0', 'net8.0-7.0', 'net8.0-windows7.0.0.0.0', 'net8.0-windows2147483648',
  'net8.0-windows.7', 'net8.0-.7', 'net8.0-android34.0', 'net9.0-ios18.0', 'net10.0-browser', 'net5.0-client',
  'netcoreapp5.0-windows', 'netcoreapp3.1-windows', 'net40-client', 'net40-Client', 'net40-full', 'net35-cf',
  'net35-CompactFramework', 'sl4-wp', 'sl4-wp71', 'sl3-windowsphone', 'net45-foo', 'net45-', 'net45--', 'net45-a+b',
  'net45-a b', 'net45_client', 'net45 ', ' net45', 'net45\t', 'win10', 'win10.0', 'wp7', 'wp71', 'wp75', 'wpa81',
  'winrt45', 'netcore45', 'netcore451', 'netcore50', 'netnano1.0', 'netmf4.3', 'netmf43', 'aspnet50', 'aspnetcore50',
  'xamarinpsthree', 'xamarinpsfour', 'xamarinpsvita', 'xamarinxboxthreesixty', 'xamarinxboxone', 'xamarintvos',
  'xamarinwatchos', 'monotouch', 'monomac', 'xamarinmac20', 'tizen40', 'tizen60', 'uap10.0.16299', 'uap10',
  // portable profiles
  'portable-net45+win8+wp8+wpa81', 'portable-wpa81+wp8+win8+net45', 'portable-net45+win8+wp8+wpa81+monoandroid+xamarinios',
  'portable-net45+win8+monoandroid10+monotouch10', 'portable-net45+netcore45', 'portable-net45+winrt45',
  'portable-net45+win', 'portable-win+net45+win8', 'portable-net4+sl4+wp7+win8', 'portable-net40+sl4+win8+wp71',
  'portable-net403+sl5+win8+wpa81+wp8', 'portable-win81+wp81', 'portable-net451+win81+wpa81', 'portable-net45',
  'portable-net45+foo', 'portable-net40-client', 'portable-net45+net40-client', 'portable-', 'portable', 'portable-+',
  'portable-net45++win8', 'portable45-net45+win8', 'portable50-net45+win8', 'portable-Profile7', 'portable-profile7',
  'portable-Profile999', 'portable-ProfileX', 'portable-Profile', 'portable-Profile+259', 'portable-Profile-259',
  'portable-net5.0-windows', 'portable-net45+uap10.0', 'portable-dotnet', 'portable-any', 'portable-unsupported',
  // long names
  '.NETFramework,Version=v4.0,Profile=Client', '.NETFramework,Version=4.5', '.NETFramework,Version=v4', '.NETFramework,Version=vv4.5',
  '.NETFramework,Version=V4.5', '.NETFramework,version=v4.5', '.NETFramework, Version=v4.5', ' .NETFramework , Version=v4.5 ',
  '.NETFramework,Version=v4.5,Version=v4.6', '.NETFramework,Version=v4.5,Profile=Client,Profile=Full', '.NETFramework,Version=',
  '.NETFramework,Version=vx', '.NETFramework,Version=v4.5.1.2.3', '.NETFramework,Version=v2147483648.0', '.NETFramework,Profile=Client',
  '.NETFramework,Version=v5.0', '.NETCoreApp,Version=v5.0', '.NETCoreApp,Version=v5.0,Profile=Client', '.NETCoreApp,Version=v10.0',
  '.NETPortable,Version=v0.0,Profile=Profile259', '.NETPortable,Version=v0.0,Profile=net45+win8', '.NETPortable,Version=v0.0,Profile=net40-client',
  '.NETPortable,Version=v4.5,Profile=Profile7', '.NETPlatform,Version=v5.0', '.NETPlatform,Version=v0.0', 'dotnet,Version=v5.0',
  'NETFramework,Version=v4.5', '.NET,Version=v4.5', 'net,Version=v4.5', 'Net,Version=v8.0', 'Any,Version=v1.0', 'agnostic,Version=v1.0',
  'Unsupported,Version=v1.0', 'foo,Version=v1.0', 'foo bar,Version=v1.0', '...,Version=v1.0', 'é,Version=v1.0', ',', ',,', ' ,Version=v1.0',
  'Xamarın.iOS,Version=v1.0', 'ſilverlight,Version=v5.0', 'Silverlight,Version=v4.0,Profile=WindowsPhone71', 'WindowsPhone,Version=v7.1',
  'Windows,Version=v10.0', 'native,Version=v0.0', 'Tizen,Version=v4.0', '.NETnanoFramework,Version=v1.0', '.NETStandard,Version=v2.1',
  '.NETFramework,Version=v4.5,Foo=Bar', '.NETFramework;Version=v4.5',
  // percent-escapes in folder names
  'net%34%35', 'net%2', '%6E%65%74%34%35', 'net45%2Dclient', '%C3%A9', '%FF', 'net%', '%', 'net%34%3',
  // odd characters
  '', ' ', '-', '.', '..', 'net..45', 'net.45', 'net4..5', 'net45.', 'NET45', 'Net8.0', 'NETSTANDARD2.0', 'net٣', 'net45\u00a0',
];

export const CURATED_IDS: readonly string[] = [
  'Newtonsoft.Json', 'a', 'A', '_', '1', 'a.b', 'a-b', 'a_b', 'a..b', 'a.-b', '.a', 'a.', '-a', 'a-', 'a b', 'a+b',
  'a/b', 'a\\b', 'a\n', 'a\nb', 'a\r', '\na', 'Straße', 'İstanbul', 'ΣΑΣ', 'ǅemal', 'e\u0301', 'a\u0903', 'a\u203fb',
  '٣٤', 'x\u00b2', 'x\u2160', 'x\u200c', 'a\u{1d400}', 'a'.repeat(100), 'a'.repeat(101), `${'a.'.repeat(50)}a`,
  '', ' ', '.', '-', 'Microsoft.Extensions.DependencyInjection.Abstractions', 'NUnit3TestAdapter', 'xunit.runner.visualstudio',
];
