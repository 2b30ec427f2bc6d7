// CreateTopic BOOTSTRAP NAME PARTITIONS [CONFIG=VALUE ...]: create a
// topic with the Kafka admin client from the broker's own jars (run by
// kafka.sh topic as a single-file Java program).
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

public class CreateTopic {
	public static void main(String[] a) throws Exception {
		Properties p = new Properties();
		p.put("bootstrap.servers", a[0]);
		Map<String, String> c = new HashMap<>();
		for (int i = 3; i < a.length; i++) {
			String[] kv = a[i].split("=", 2);
			c.put(kv[0], kv[1]);
		}
		try (Admin admin = Admin.create(p)) {
			admin.createTopics(List.of(new NewTopic(a[1],
			    Integer.parseInt(a[2]), (short)1).configs(c)))
			    .all().get();
		}
	}
}
