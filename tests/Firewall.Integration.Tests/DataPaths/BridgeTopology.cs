using Firewall.Integration.Tests.Lab;

namespace Firewall.Integration.Tests.DataPaths;

/// <summary>
/// inside host — [bridge namespace: port "bi" | daemon | port "bo"] — outside host, the hosts in ONE subnet
/// (198.18.77.0/24, 2001:db8:77::/64): inside .104 / ::104, outside .77 / ::77. The bridge ports have no IP
/// (IPv6 disabled in the bridge namespace). Offloads as the data-path notes say: hosts' veths tx/tso/gso off,
/// bridge ports gro/tso/gso off. ARP and neighbour discovery are real (through the daemon).
/// </summary>
public sealed class BridgeTopology : IDisposable
{
    public const string InsideV4 = "198.18.77.104";
    public const string OutsideV4 = "198.18.77.77";
    public const string InsideV6 = "2001:db8:77::104";
    public const string OutsideV6 = "2001:db8:77::77";
    public const string InsideMac = "02:00:c6:12:4d:68";
    public const string OutsideMac = "02:00:c6:12:4d:4d";

    public NetLab Lab { get; }
    public string Inside { get; }
    public string Outside { get; }
    public string Bridge { get; }
    public string InsideLink { get; }
    public string OutsideLink { get; }
    /// <summary>Bridge port facing the inside host.</summary>
    public string PortIn { get; }
    /// <summary>Bridge port facing the outside host.</summary>
    public string PortOut { get; }

    private BridgeTopology(NetLab lab, string i, string o, string b, string il, string ol, string pi, string po)
    {
        Lab = lab; Inside = i; Outside = o; Bridge = b; InsideLink = il; OutsideLink = ol; PortIn = pi; PortOut = po;
    }

    public static string Inside4Or6(bool v6) => v6 ? InsideV6 : InsideV4;
    public static string Outside4Or6(bool v6) => v6 ? OutsideV6 : OutsideV4;

    public static BridgeTopology Create()
    {
        NetLab.RequireTools("ip", "ethtool", "sysctl", "ss", "curl", "socat", "ping", "tcpdump", "iperf3", "dotnet");
        var lab = NetLab.Create();
        try
        {
            string i = lab.AddNamespace("in"), o = lab.AddNamespace("out"), b = lab.AddNamespace("br");
            lab.SetSysctl(b, "net.ipv6.conf.all.disable_ipv6", "1");
            lab.SetSysctl(b, "net.ipv6.conf.default.disable_ipv6", "1");
            var (il, pi) = lab.AddVethPair(i, "i0", b, "bi", InsideMac);
            var (ol, po) = lab.AddVethPair(o, "o0", b, "bo", OutsideMac);
            lab.DisableOffloads(i, il, "tx", "tso", "gso");
            lab.DisableOffloads(o, ol, "tx", "tso", "gso");
            lab.DisableOffloads(b, pi, "gro", "tso", "gso");
            lab.DisableOffloads(b, po, "gro", "tso", "gso");
            lab.AddAddress(i, il, InsideV4 + "/24");
            lab.AddAddress(i, il, InsideV6 + "/64");
            lab.AddAddress(o, ol, OutsideV4 + "/24");
            lab.AddAddress(o, ol, OutsideV6 + "/64");
            foreach (var (ns, link) in new[] { (b, pi), (b, po) })
                if (!NetLab.WaitUntil(() => lab.Run(ns, "ip", "link", "show", link).Stdout.Contains("LOWER_UP"), TimeSpan.FromSeconds(5)))
                    throw new InvalidOperationException($"{link} has no carrier");
            return new BridgeTopology(lab, i, o, b, il, ol, pi, po);
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    public void Dispose() => Lab.Dispose();
}
