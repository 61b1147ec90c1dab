namespace Firewall.Daemon;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("firewall-daemon: no data path yet");
        return 2;
    }
}
