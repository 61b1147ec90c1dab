using Firewall.Core.Packets;

namespace Firewall.Core.Rules;

/// <summary>Connection-tracking helper ids as carried in <see cref="Conntrack.TrackOptions.HelperId"/> (0 = none).</summary>
public static class HelperIds
{
    public const byte None = 0;
    public const byte Ftp = 1;
    public const byte Irc = 2;
    public const byte Tftp = 3;

    public static string Name(byte id) => id switch
    {
        Ftp => "ftp",
        Irc => "irc",
        Tftp => "tftp",
        _ => "",
    };

    /// <summary>The helper registered under <paramref name="name"/> for L4 protocol <paramref name="proto"/> (ftp and irc: TCP; tftp: UDP).</summary>
    public static bool TryParse(string name, byte proto, out byte id)
    {
        id = name switch
        {
            "ftp" when proto == IpProto.Tcp => Ftp,
            "irc" when proto == IpProto.Tcp => Irc,
            "tftp" when proto == IpProto.Udp => Tftp,
            _ => None,
        };
        return id != None;
    }
}
