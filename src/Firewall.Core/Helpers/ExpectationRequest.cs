using Firewall.Core.Packets;

namespace Firewall.Core.Helpers;

/// <summary>
/// The expectation a helper wants the engine to insert (reference 8.1): a future connection whose ORIGINAL tuple
/// matches belongs to the master. Only the source address and the source port can be wildcards; protocol, family,
/// destination address and destination port are compared exactly. Class is always 0 (FTP, IRC and TFTP have one class).
/// </summary>
public struct ExpectationRequest
{
    /// <summary><see cref="IpProto.Tcp"/> or <see cref="IpProto.Udp"/>.</summary>
    public byte Proto;

    /// <summary>Source address; ignored when <see cref="SrcAddrAny"/> (the kernel's mask-src 0).</summary>
    public IpAddr Src;
    public bool SrcAddrAny;

    /// <summary>Source port; ignored when <see cref="SrcPortAny"/>. All three helpers leave the source port open.</summary>
    public ushort SrcPort;
    public bool SrcPortAny;

    /// <summary>Destination address and port, always exact.</summary>
    public IpAddr Dst;
    public ushort DstPort;

    /// <summary>4 or 6 (the master's family).</summary>
    public byte Family;

    public override readonly string ToString()
    {
        bool v6 = Family == 6;
        string src = SrcAddrAny ? "any" : Src.ToString(v6);
        string sport = SrcPortAny ? "any" : SrcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"{IpProto.ConntrackName(Proto)} {src}:{sport} -> {Dst.ToString(v6)}:{DstPort}";
    }
}
