namespace Firewall.Integration.Tests.Lab;

/// <summary>
/// client — router — server, built on a <see cref="NetLab"/>:
/// client 198.18.1.2/24 (+ 198.18.1.3), 2001:db8:1::2/64, gateway .1 / ::1;
/// router 198.18.1.1 / 198.18.2.1, 2001:db8:1::1 / 2001:db8:2::1 with IPv4 and IPv6 forwarding;
/// server 198.18.2.2/24, 2001:db8:2::2/64. Fixed MAC addresses and permanent neighbour entries everywhere,
/// so no ARP / neighbour discovery happens during a test, and TX checksum offload (plus TSO/GSO/GRO) off on
/// every veth, so packets carry complete checksums wherever they are captured.
/// </summary>
public sealed class RoutedTopology : IDisposable
{
    public const string ClientV4 = "198.18.1.2";
    /// <summary>A second client address (for "wrong destination" cases).</summary>
    public const string ClientV4Alt = "198.18.1.3";
    public const string RouterClientV4 = "198.18.1.1";
    public const string RouterServerV4 = "198.18.2.1";
    public const string ServerV4 = "198.18.2.2";
    public const string ClientV6 = "2001:db8:1::2";
    public const string RouterClientV6 = "2001:db8:1::1";
    public const string RouterServerV6 = "2001:db8:2::1";
    public const string ServerV6 = "2001:db8:2::2";

    public const string ClientMac = "02:00:c6:12:01:02";
    public const string RouterClientMac = "02:00:c6:12:01:01";
    public const string RouterServerMac = "02:00:c6:12:02:01";
    public const string ServerMac = "02:00:c6:12:02:02";

    public NetLab Lab { get; }
    public string Client { get; }
    public string Router { get; }
    public string Server { get; }
    /// <summary>Client's link (towards the router).</summary>
    public string ClientLink { get; }
    /// <summary>Router's link towards the client.</summary>
    public string RouterClientLink { get; }
    /// <summary>Router's link towards the server.</summary>
    public string RouterServerLink { get; }
    /// <summary>Server's link (towards the router).</summary>
    public string ServerLink { get; }

    private RoutedTopology(NetLab lab, string client, string router, string server, string cl, string rc, string rs, string sl)
    {
        Lab = lab; Client = client; Router = router; Server = server;
        ClientLink = cl; RouterClientLink = rc; RouterServerLink = rs; ServerLink = sl;
    }

    /// <summary>Builds the topology in a new lab; on any failure everything created so far is deleted.</summary>
    public static RoutedTopology Create()
    {
        NetLab.RequireTools("ip", "ethtool", "sysctl", "ss");
        var lab = NetLab.Create();
        try
        {
            string c = lab.AddNamespace("cli"), r = lab.AddNamespace("rtr"), s = lab.AddNamespace("srv");
            var (cl, rc) = lab.AddVethPair(c, "c0", r, "r0", ClientMac, RouterClientMac);
            var (sl, rs) = lab.AddVethPair(s, "s0", r, "r1", ServerMac, RouterServerMac);
            foreach (var (ns, link) in new[] { (c, cl), (r, rc), (r, rs), (s, sl) })
                lab.DisableOffloads(ns, link, "tx", "tso", "gso", "gro");

            lab.AddAddress(c, cl, ClientV4 + "/24");
            lab.AddAddress(c, cl, ClientV4Alt + "/24");
            lab.AddAddress(c, cl, ClientV6 + "/64");
            lab.AddAddress(r, rc, RouterClientV4 + "/24");
            lab.AddAddress(r, rc, RouterClientV6 + "/64");
            lab.AddAddress(r, rs, RouterServerV4 + "/24");
            lab.AddAddress(r, rs, RouterServerV6 + "/64");
            lab.AddAddress(s, sl, ServerV4 + "/24");
            lab.AddAddress(s, sl, ServerV6 + "/64");
            lab.AddRoute(c, "default", RouterClientV4);
            lab.AddRoute(c, "default", RouterClientV6);
            lab.AddRoute(s, "default", RouterServerV4);
            lab.AddRoute(s, "default", RouterServerV6);

            lab.AddNeighbor(c, cl, RouterClientV4, RouterClientMac);
            lab.AddNeighbor(c, cl, RouterClientV6, RouterClientMac);
            lab.AddNeighbor(s, sl, RouterServerV4, RouterServerMac);
            lab.AddNeighbor(s, sl, RouterServerV6, RouterServerMac);
            foreach (var a in new[] { ClientV4, ClientV4Alt, ClientV6 }) lab.AddNeighbor(r, rc, a, ClientMac);
            foreach (var a in new[] { ServerV4, ServerV6 }) lab.AddNeighbor(r, rs, a, ServerMac);

            lab.SetSysctl(r, "net.ipv4.ip_forward", "1");
            lab.SetSysctl(r, "net.ipv6.conf.all.forwarding", "1");
            lab.SetSysctl(r, "net.ipv4.conf.all.send_redirects", "0");
            return new RoutedTopology(lab, c, r, s, cl, rc, rs, sl);
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>The i-th extra client address (see <see cref="AddClientAddresses"/>): 198.18.1.(100+i), 2001:db8:1::(100+i in hex).</summary>
    public static string ExtraClientAddress(int i, bool v6) =>
        v6 ? $"2001:db8:1::{100 + i:x}" : $"198.18.1.{100 + i}";

    /// <summary>Gives the client <paramref name="count"/> more addresses in its /24 and /64 (<see cref="ExtraClientAddress"/>),
    /// with permanent neighbour entries for them on the router.</summary>
    public void AddClientAddresses(int count)
    {
        for (int i = 0; i < count; i++)
            foreach (bool v6 in new[] { false, true })
            {
                string a = ExtraClientAddress(i, v6);
                Lab.AddAddress(Client, ClientLink, a + (v6 ? "/64" : "/24"));
                Lab.AddNeighbor(Router, RouterClientLink, a, ClientMac);
            }
    }

    public void Dispose() => Lab.Dispose();
}
