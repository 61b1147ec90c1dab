using Firewall.Core.Packets;
using Firewall.Core.Rules.Parsing;

namespace Firewall.Core.Rules;

/// <summary>
/// A named set of IPv4 and IPv6 networks (like ipset hash:net, both families in one set), stored as sorted,
/// merged, disjoint ranges: a lookup is one binary search, with no allocation.
/// </summary>
public sealed class AddressSet
{
    private readonly uint[] _v4Start, _v4End;
    private readonly UInt128[] _v6Start, _v6End;

    public string Name { get; }
    /// <summary>Entries as given (for listing).</summary>
    public IReadOnlyList<string> Entries { get; }
    public int V4RangeCount => _v4Start.Length;
    public int V6RangeCount => _v6Start.Length;

    private AddressSet(string name, IReadOnlyList<string> entries, List<(uint, uint)> v4, List<(UInt128, UInt128)> v6)
    {
        Name = name;
        Entries = entries;
        (_v4Start, _v4End) = Merge(v4, 1u);
        (_v6Start, _v6End) = Merge(v6, UInt128.One);
    }

    private static (T[], T[]) Merge<T>(List<(T Start, T End)> ranges, T one) where T : struct, IComparable<T>, System.Numerics.IAdditionOperators<T, T, T>, System.Numerics.IMinMaxValue<T>, IEquatable<T>
    {
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        var starts = new List<T>(ranges.Count);
        var ends = new List<T>(ranges.Count);
        foreach (var (s, e) in ranges)
        {
            int n = ends.Count;
            // Overlapping or adjacent to the previous range: extend it.
            if (n > 0 && (ends[n - 1].Equals(T.MaxValue) || s.CompareTo(ends[n - 1] + one) <= 0))
            {
                if (e.CompareTo(ends[n - 1]) > 0) ends[n - 1] = e;
                continue;
            }
            starts.Add(s);
            ends.Add(e);
        }
        return (starts.ToArray(), ends.ToArray());
    }

    /// <summary>Builds a set from entries: <c>ADDR</c>, <c>ADDR/LEN</c>, or a range <c>FIRST-LAST</c>. Errors name the entry index.</summary>
    public static AddressSet Create(string name, IReadOnlyList<string> entries, List<string> errors, string keyPrefix)
    {
        var v4 = new List<(uint, uint)>(entries.Count);
        var v6 = new List<(UInt128, UInt128)>();
        for (int i = 0; i < entries.Count; i++)
        {
            string e = entries[i]?.Trim() ?? "";
            int dash = e.IndexOf('-');
            if (dash > 0)
            {
                if (IpAddr.TryParse(e[..dash].Trim(), out IpAddr a, out bool av6) && IpAddr.TryParse(e[(dash + 1)..].Trim(), out IpAddr b, out bool bv6) && av6 == bv6)
                {
                    if (av6)
                    {
                        UInt128 x = ToU128(a), y = ToU128(b);
                        if (x > y) errors.Add($"{keyPrefix}:{i}: range \"{e}\" ends before it starts");
                        else v6.Add((x, y));
                    }
                    else if (a.V4 > b.V4) errors.Add($"{keyPrefix}:{i}: range \"{e}\" ends before it starts");
                    else v4.Add((a.V4, b.V4));
                    continue;
                }
                errors.Add($"{keyPrefix}:{i}: \"{e}\" is not an address range of one family");
                continue;
            }
            if (!AddressSpec.TryParse(e, out AddressSpec spec, out string err))
            {
                errors.Add($"{keyPrefix}:{i}: {err}");
                continue;
            }
            if (spec.PrefixLength < 0)
            {
                errors.Add($"{keyPrefix}:{i}: \"{e}\": sets take prefix lengths, not masks");
                continue;
            }
            if (spec.IsV6)
            {
                UInt128 s = ToU128(spec.Network), m = ToU128(spec.Mask);
                v6.Add((s, s | ~m));
            }
            else
            {
                uint s = spec.Network.V4, m = spec.Mask.V4;
                v4.Add((s, s | ~m));
            }
        }
        return new AddressSet(name, entries, v4, v6);
    }

    private static UInt128 ToU128(in IpAddr a) => new(a.Hi, a.Lo);

    public bool Contains(in IpAddr a, bool isV6)
    {
        if (!isV6)
        {
            uint x = (uint)a.Lo;
            uint[] st = _v4Start;
            int lo = 0, hi = st.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (st[mid] <= x) lo = mid + 1; else hi = mid - 1;
            }
            return hi >= 0 && x <= _v4End[hi];
        }
        else
        {
            UInt128 x = ToU128(a);
            UInt128[] st = _v6Start;
            int lo = 0, hi = st.Length - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (st[mid] <= x) lo = mid + 1; else hi = mid - 1;
            }
            return hi >= 0 && x <= _v6End[hi];
        }
    }
}
